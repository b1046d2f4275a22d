package dev.kavach.internal.container;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Hands the workspace directory to the container's uid for the sandbox's life, and back. Commands
 * run as an unprivileged uid (never host root), so a workspace owned by root would be read-only to
 * them. Only the directory itself changes owner; files already in it keep theirs (readable if their
 * mode allows), and files the command creates belong to the container's uid.
 */
final class WorkspaceOwner {
  private final Path dir;
  private final int originalUid;
  private final int originalGid;
  private final boolean changed;

  private WorkspaceOwner(Path dir, int uid, int gid, boolean changed) {
    this.dir = dir;
    this.originalUid = uid;
    this.originalGid = gid;
    this.changed = changed;
  }

  /** Makes {@code dir} owned by {@code uid:gid} unless it already is. */
  static WorkspaceOwner grant(Path dir, int uid, int gid) {
    try {
      int u = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      int g = (Integer) Files.getAttribute(dir, "unix:gid", LinkOption.NOFOLLOW_LINKS);
      if (u == uid && g == gid) {
        return new WorkspaceOwner(dir, u, g, false);
      }
      Files.setAttribute(dir, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(dir, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
      return new WorkspaceOwner(dir, u, g, true);
    } catch (IOException | RuntimeException e) {
      throw new KavachException(
          Reason.IO,
          "cannot give the workspace " + dir + " to uid " + uid + " (the sandbox's uid): " + e,
          e);
    }
  }

  /** Gives the directory back to its original owner, if it still exists. */
  void restore() throws IOException {
    if (changed && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.setAttribute(dir, "unix:uid", originalUid, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(dir, "unix:gid", originalGid, LinkOption.NOFOLLOW_LINKS);
    }
  }
}
