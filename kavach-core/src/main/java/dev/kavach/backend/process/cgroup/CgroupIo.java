package dev.kavach.backend.process.cgroup;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * File operations on cgroupfs, with the kernel's reason kept in every error. cgroupfs is not an
 * ordinary filesystem: a directory is created with its control files, removed by {@code rmdir}
 * while those files are still listed, and each control file takes one {@code write} per value.
 */
final class CgroupIo {
  private CgroupIo() {}

  /** Reads a control file whole (sizes reported by cgroupfs are not to be trusted). */
  static String read(Path file) throws IOException {
    try (InputStream in = new FileInputStream(file.toFile())) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.FileNotFoundException e) {
      // FileInputStream reports every open failure this way; keep the kernel's words.
      throw new FileSystemException(file.toString(), null, e.getMessage());
    }
  }

  /** Reads a control file, or returns null when it does not exist or cannot be read. */
  static String readOrNull(Path file) {
    try {
      return read(file);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Writes a value in one {@code write}. The file is opened without {@code O_CREAT}: a control file
   * that does not exist is an error, never a new file.
   */
  static void write(Path file, String value) throws IOException {
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE)) {
      out.write(value.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Creates a directory; returns false if it already existed. */
  static boolean mkdirIfAbsent(Path dir) throws IOException {
    try {
      Files.createDirectory(dir);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    }
  }

  /** Removes a cgroup directory; returns false if it was already gone. */
  static boolean rmdir(Path dir) throws IOException {
    try {
      Files.delete(dir);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  /** Child cgroup directories of a cgroup directory (none if it is gone). */
  static List<Path> children(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).sorted().toList();
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  /** A cgroup directory and every descendant, deepest first (the order {@code rmdir} needs). */
  static List<Path> subtreeDeepestFirst(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path c : children(dir)) {
      out.addAll(subtreeDeepestFirst(c));
    }
    if (Files.isDirectory(dir)) {
      out.add(dir);
    }
    return out;
  }

  /** The kernel's reason for a failure, as a person reads it ("Permission denied"). */
  static String reason(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "Permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "No such file or directory";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "File exists";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return String.valueOf(e.getMessage());
  }

  /**
   * Polls until {@code done} holds, backing off from 1 ms to 10 ms.
   *
   * @return whether it held before the timeout
   */
  static boolean await(BooleanSupplier done, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long sleepMillis = 1;
    while (true) {
      if (done.getAsBoolean()) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(sleepMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KavachException(Reason.IO, "interrupted while waiting for " + what, e);
      }
      sleepMillis = Math.min(10, sleepMillis * 2);
    }
  }
}
