package dev.kavach.backend.wasm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backends;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest filesystem from inside a module: preopens are reachable with their access, and nothing
 * else is, whatever path, {@code ..} or symbolic link the module (or an earlier exec) uses. The
 * tool exits with the WASI errno of a failed call: 29 EIO (Chicory's code for a refused open), 44
 * ENOENT, 63 EPERM, 76 ENOTCAPABLE.
 */
@Timeout(60)
class WasmFilesystemTest {
  private static final int EACCES = 2;
  private static final int EIO = 29;
  private static final int ELOOP = 32;
  private static final int ENOENT = 44;
  private static final int EPERM = 63;
  private static final int ENOTCAPABLE = 76;

  @TempDir static Path modules;
  static Path tool;

  @TempDir Path ro;
  @TempDir Path rw;
  @TempDir Path secretDir;
  private Sandbox sandbox;
  private Path ws;
  private final List<Sandbox> sandboxes = new ArrayList<>();

  @BeforeAll
  static void buildModules() throws Exception {
    tool = Wat.compileResource("kvtool", modules);
  }

  @BeforeEach
  void start() throws Exception {
    Files.writeString(ro.resolve("data.txt"), "read-only data");
    Files.writeString(rw.resolve("notes.txt"), "writable");
    Files.writeString(secretDir.resolve("host-secret.txt"), "must stay unreadable");
    SandboxPolicy policy =
        SandboxPolicy.builder()
            .filesystemRule(FilesystemRule.readOnly(ro))
            .filesystemRule(FilesystemRule.readWrite(rw))
            .build();
    sandbox = create(policy);
    ws = sandbox.workspace().orElseThrow();
    Files.writeString(ws.resolve("note.txt"), "in the workspace");
  }

  private Sandbox create(SandboxPolicy policy) {
    Sandbox s =
        Sandbox.create(
            SandboxConfig.builder().backend("wasm").policy(policy).build(),
            Backends.of(List.of(new WasmBackendProvider())));
    sandboxes.add(s);
    s.start();
    return s;
  }

  @AfterEach
  void destroy() {
    sandboxes.forEach(Sandbox::close);
  }

  private ExecResult run(String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(tool.toString());
    argv.addAll(List.of(args));
    return sandbox.exec(argv);
  }

  @Test
  void preopenedFilesAreReadable() {
    assertThat(run("read", ro + "/data.txt").stdoutText()).isEqualTo("read-only data");
    assertThat(run("read", rw + "/notes.txt").stdoutText()).isEqualTo("writable");
    assertThat(run("read", "note.txt").stdoutText()).isEqualTo("in the workspace");
    assertThat(run("read", "/workspace/note.txt").stdoutText()).isEqualTo("in the workspace");
  }

  @Test
  void readWritePreopensAndTheWorkspaceTakeWrites() throws Exception {
    ExecResult r = run("write", rw + "/new.txt", "made\\n", "write", "out.txt", "ws\\n");
    assertThat(r.exitCode()).isZero();
    assertThat(rw.resolve("new.txt")).hasContent("made");
    assertThat(ws.resolve("out.txt")).hasContent("ws");
  }

  @Test
  void aReadOnlyPreopenRefusesEveryKindOfWrite() throws Exception {
    assertThat(run("write", ro + "/new.txt", "x").exitCode()).isEqualTo(EIO);
    assertThat(ro.resolve("new.txt")).doesNotExist();
    assertThat(run("write", ro + "/data.txt", "overwritten").exitCode()).isEqualTo(EIO);
    assertThat(run("append", ro + "/data.txt", "appended").exitCode()).isEqualTo(EIO);
    assertThat(ro.resolve("data.txt")).hasContent("read-only data");
    assertThat(run("rm", ro + "/data.txt").exitCode()).isNotZero();
    assertThat(ro.resolve("data.txt")).exists();
    assertThat(run("mkdir", ro + "/dir").exitCode()).isNotZero();
    assertThat(ro.resolve("dir")).doesNotExist();
    assertThat(run("symlink", "data.txt", ro + "/link").exitCode()).isNotZero();
    assertThat(ro.resolve("link")).doesNotExist();
  }

  @Test
  void aHardLinkCannotSmuggleAReadOnlyFileIntoAWritablePlace() {
    ExecResult r = run("link", ro + "/data.txt", "/workspace/alias.txt");
    assertThat(r.exitCode()).isNotZero();
    assertThat(ws.resolve("alias.txt")).doesNotExist();
    // Within writable places hard links work.
    assertThat(run("link", "note.txt", "/workspace/twin.txt").exitCode()).isZero();
    assertThat(ws.resolve("twin.txt")).hasContent("in the workspace");
  }

  @Test
  void aSymbolicLinkIntoAReadOnlyPreopenKeepsItReadOnly() throws Exception {
    Files.createSymbolicLink(ws.resolve("ro-link"), ro.resolve("data.txt"));
    assertThat(run("read", "ro-link").stdoutText()).isEqualTo("read-only data");
    assertThat(run("write", "ro-link", "through the link").exitCode()).isEqualTo(EIO);
    assertThat(ro.resolve("data.txt")).hasContent("read-only data");
  }

  @Test
  void absolutePathsOutsideEveryPreopenAreUnreachable() {
    // No preopen holds /etc: the program (like wasi-libc) has no directory to open it from.
    assertThat(run("read", "/etc/passwd").exitCode()).isEqualTo(ENOTCAPABLE);
    assertThat(run("read", secretDir + "/host-secret.txt").exitCode()).isEqualTo(ENOTCAPABLE);
  }

  @Test
  void dotDotCannotClimbOutOfAPreopen() {
    ExecResult r = run("read", "../../../../../../etc/passwd");
    assertThat(r.exitCode()).isEqualTo(EPERM);
    assertThat(r.stdoutText()).isEmpty();
    assertThat(run("read", "/workspace/../../etc/passwd").exitCode()).isEqualTo(EPERM);
    assertThat(run("read", ro + "/../../../etc/passwd").exitCode()).isEqualTo(EPERM);
  }

  @Test
  void aSymlinkPlantedInTheWorkspaceCannotReachTheHost() throws Exception {
    Files.createSymbolicLink(ws.resolve("passwd"), Path.of("/etc/passwd"));
    Files.createSymbolicLink(ws.resolve("etc"), Path.of("/etc"));
    Files.createSymbolicLink(ws.resolve("up"), Path.of("../../../../../../../../.."));
    Files.createSymbolicLink(ws.resolve("secret"), secretDir.resolve("host-secret.txt"));
    // Each resolves in the guest's namespace, where /etc and the secret's directory do not exist.
    for (String path : List.of("passwd", "etc/passwd", "up/etc/passwd", "secret")) {
      ExecResult r = run("read", path);
      assertThat(r.exitCode()).as(path).isEqualTo(ENOENT);
      assertThat(r.stdoutText()).as(path).isEmpty();
    }
    // Nor can a write through one of them reach the host.
    assertThat(run("write", "secret", "pwned").exitCode()).isNotZero();
    assertThat(secretDir.resolve("host-secret.txt")).hasContent("must stay unreadable");
  }

  @Test
  void aSymlinkTheModuleCreatesStaysInsideTheGuest() throws Exception {
    // Chicory refuses link targets that are absolute or climb out of the directory (EACCES).
    assertThat(run("symlink", "/etc/passwd", "evil").exitCode()).isEqualTo(EACCES);
    assertThat(run("symlink", "../../../etc/passwd", "evil").exitCode()).isEqualTo(EACCES);
    assertThat(ws.resolve("evil")).doesNotExist();
    // A link inside the workspace works; Chicory stores its target as a guest path, which the
    // host would not find (so the link means nothing outside the guest).
    assertThat(run("symlink", "note.txt", "alias", "read", "alias").stdoutText())
        .isEqualTo("in the workspace");
    assertThat(Files.readSymbolicLink(ws.resolve("alias")))
        .isEqualTo(Path.of("/workspace/note.txt"));
  }

  @Test
  void relativeAndGuestAbsoluteLinksResolveInGuestSpace() throws Exception {
    Files.createDirectories(ws.resolve("sub"));
    Files.createSymbolicLink(ws.resolve("sub/parent"), Path.of("../note.txt"));
    Files.createSymbolicLink(ws.resolve("abs"), Path.of("/workspace/note.txt"));
    Files.createSymbolicLink(ws.resolve("dir"), Path.of("sub"));
    assertThat(run("read", "sub/parent").stdoutText()).isEqualTo("in the workspace");
    assertThat(run("read", "abs").stdoutText()).isEqualTo("in the workspace");
    assertThat(run("read", "dir/parent").stdoutText()).isEqualTo("in the workspace");
    assertThat(run("write", "dir/new.txt", "via a linked directory").exitCode()).isZero();
    assertThat(ws.resolve("sub/new.txt")).hasContent("via a linked directory");
  }

  @Test
  void aSymlinkLoopEndsInAnError() throws Exception {
    Files.createSymbolicLink(ws.resolve("a"), Path.of("b"));
    Files.createSymbolicLink(ws.resolve("b"), Path.of("a"));
    ExecResult r = run("read", "a/x");
    assertThat(r.exitCode()).isIn(ELOOP, EIO);
  }

  @Test
  void aFileRuleExposesThatFileAndNotItsSiblings(@TempDir Path dir) throws Exception {
    Path allowed = Files.writeString(dir.resolve("allowed.txt"), "allowed");
    Files.writeString(dir.resolve("sibling.txt"), "hidden");
    sandbox =
        create(SandboxPolicy.builder().filesystemRule(FilesystemRule.readOnly(allowed)).build());
    assertThat(run("read", allowed.toString()).stdoutText()).isEqualTo("allowed");
    assertThat(run("read", dir + "/sibling.txt").exitCode()).isEqualTo(ENOENT);
    assertThat(run("write", allowed.toString(), "x").exitCode()).isEqualTo(EIO);
  }

  @Test
  void aRuleForAMissingPathFailsClosedAtStart(@TempDir Path dir) {
    SandboxPolicy policy =
        SandboxPolicy.builder()
            .filesystemRule(FilesystemRule.readOnly(dir.resolve("missing")))
            .build();
    Sandbox s =
        Sandbox.create(
            SandboxConfig.builder().backend("wasm").policy(policy).build(),
            Backends.of(List.of(new WasmBackendProvider())));
    sandboxes.add(s);
    org.assertj.core.api.Assertions.assertThatThrownBy(s::start)
        .hasMessageContaining("landlock_rules[0].path")
        .hasMessageContaining("cannot be mounted");
  }
}
