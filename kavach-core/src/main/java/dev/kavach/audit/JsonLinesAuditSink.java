package dev.kavach.audit;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Appends one JSON object per line; each line is flushed before {@link #record} returns. */
final class JsonLinesAuditSink implements AuditSink {
  private final Path file;
  private final OutputStream out;

  JsonLinesAuditSink(Path file) {
    this.file = file;
    try {
      createPrivate(file);
      this.out = Files.newOutputStream(file, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot open audit log " + file + ": " + e, e);
    }
  }

  /** Creates {@code file} readable by its owner only, unless it exists (appending is normal). */
  static void createPrivate(Path file) throws IOException {
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException e) {
      // Appending to an existing log is the normal case.
    }
  }

  @Override
  public synchronized void record(AuditEvent event) {
    byte[] line = (event.toJson() + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      out.write(line);
      out.flush();
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot write audit log " + file + ": " + e, e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot close audit log " + file + ": " + e, e);
    }
  }
}
