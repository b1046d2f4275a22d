package dev.kavach.scanning;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.fs.Trees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Output the {@link ExternalizationGate} withheld for review: one entry per output, kept until
 * someone approves it (gets it back) or rejects it (deletes it).
 *
 * <p>Layout: {@code <dir>/<id>/metadata.json} and {@code <dir>/<id>/part-<n>}, the directories mode
 * 0700 and the files 0600. An entry is written under a temporary name and renamed into place, so a
 * half-written entry is never listed; approving or rejecting first renames the entry away, so two
 * concurrent approvals cannot both get it. The metadata holds the origin, time, status and findings
 * (masked evidence only) and a SHA-256 of each part, checked when the part is released. The
 * directory must belong to the current user and be closed to everyone else; kavach refuses to use
 * it otherwise rather than changing its mode.
 *
 * <pre>{@code
 * QuarantineStore store = QuarantineStore.at(QuarantineStore.defaultDirectory());
 * for (QuarantineStore.Entry e : store.list()) {
 *   System.out.println(e.id() + " " + e.worst() + " " + e.findings().size() + " findings");
 * }
 * Map<String, byte[]> output = store.approve(id).parts();
 * }</pre>
 */
public final class QuarantineStore {
  /** Status of an entry that is waiting for a decision. */
  public static final String QUARANTINED = "quarantined";

  /** At most this many findings are written to an entry's metadata; the rest are counted. */
  public static final int MAX_METADATA_FINDINGS = 1000;

  private static final Pattern ID = Pattern.compile("[0-9a-f]{32}");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<PosixFilePermission> PRIVATE_DIR =
      PosixFilePermissions.fromString("rwx------");
  private static final FileAttribute<Set<PosixFilePermission>> DIR_MODE =
      PosixFilePermissions.asFileAttribute(PRIVATE_DIR);
  private static final FileAttribute<Set<PosixFilePermission>> FILE_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final Set<PosixFilePermission> OTHERS =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

  /**
   * One quarantined output, as described by its metadata.
   *
   * @param id the entry's id (32 hex digits)
   * @param sandboxId the sandbox that produced it
   * @param agentId the agent the sandbox ran for, if known
   * @param execId the exec or copy-out that produced it
   * @param time when it was quarantined
   * @param status {@link #QUARANTINED}
   * @param worst the worst severity found
   * @param findings the findings (masked evidence), at most {@link #MAX_METADATA_FINDINGS}
   * @param findingsOmitted how many findings were left out of the metadata
   * @param parts the stored parts
   */
  public record Entry(
      String id,
      String sandboxId,
      @Nullable String agentId,
      String execId,
      Instant time,
      String status,
      Severity worst,
      List<Finding> findings,
      int findingsOmitted,
      List<Part> parts) {
    /** Copies the lists. */
    public Entry {
      findings = List.copyOf(findings);
      parts = List.copyOf(parts);
    }
  }

  /**
   * One stored part of an output.
   *
   * @param name {@code stdout}, {@code stderr} or a workspace path
   * @param bytes its size
   * @param sha256 hex SHA-256 of its content
   */
  public record Part(String name, long bytes, String sha256) {}

  /**
   * An approved output, removed from the store.
   *
   * @param entry its metadata
   * @param parts its content by part name, in the original order
   */
  public record Released(Entry entry, Map<String, byte[]> parts) {
    /** Copies the map, keeping its order. */
    public Released {
      parts = Collections.unmodifiableMap(new LinkedHashMap<>(parts));
    }
  }

  private final Path dir;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  private QuarantineStore(Path dir, Clock clock) {
    this.dir = dir.toAbsolutePath().normalize();
    this.clock = clock;
  }

  /** A store in {@code dir}, created (mode 0700) when the first output is quarantined. */
  public static QuarantineStore at(Path dir) {
    return at(dir, Clock.systemUTC());
  }

  /** A store in {@code dir} that timestamps entries with {@code clock}. */
  public static QuarantineStore at(Path dir, Clock clock) {
    return new QuarantineStore(Objects.requireNonNull(dir, "dir"), Objects.requireNonNull(clock));
  }

  /**
   * {@code $XDG_STATE_HOME/kavach/quarantine}, or {@code ~/.local/state/kavach/quarantine} when
   * {@code XDG_STATE_HOME} is unset or not absolute (as the XDG base directory spec says).
   */
  public static Path defaultDirectory() {
    String xdg = System.getenv("XDG_STATE_HOME");
    Path base =
        xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("kavach").resolve("quarantine");
  }

  /** The directory of this store. */
  public Path directory() {
    return dir;
  }

  /** Stores a withheld output and returns its id. */
  String put(
      ExternalizationGate.Origin origin,
      Map<String, byte[]> parts,
      List<Finding> findings,
      Severity worst) {
    ensureDirectory();
    String id = HexFormat.of().formatHex(randomBytes(16));
    Path tmp = dir.resolve(".tmp-" + id);
    try {
      Files.createDirectory(tmp, DIR_MODE);
      List<Part> stored = new ArrayList<>();
      int i = 0;
      for (Map.Entry<String, byte[]> p : parts.entrySet()) {
        writePrivate(tmp.resolve("part-" + i), p.getValue());
        stored.add(new Part(p.getKey(), p.getValue().length, sha256(p.getValue())));
        i++;
      }
      int kept = Math.min(findings.size(), MAX_METADATA_FINDINGS);
      Entry entry =
          new Entry(
              id,
              origin.sandboxId(),
              origin.agentId(),
              origin.execId(),
              clock.instant(),
              QUARANTINED,
              worst,
              findings.subList(0, kept),
              findings.size() - kept,
              stored);
      writePrivate(tmp.resolve("metadata.json"), JSON.writeValueAsBytes(toJson(entry)));
      Files.move(tmp, dir.resolve(id), StandardCopyOption.ATOMIC_MOVE);
      return id;
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new KavachException(
          Reason.IO, "cannot store quarantined output in " + dir + ": " + e, e);
    }
  }

  /** Every entry waiting for a decision, oldest first. */
  public List<Entry> list() {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return List.of();
    }
    checkDirectory();
    List<Entry> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (ID.matcher(name).matches() && Files.isRegularFile(p.resolve("metadata.json"))) {
          out.add(readEntry(p));
        }
      }
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot list " + dir + ": " + e, e);
    }
    out.sort(Comparator.comparing(Entry::time).thenComparing(Entry::id));
    return out;
  }

  /**
   * The metadata of one entry.
   *
   * @throws KavachException with reason {@code IO} if there is no such entry
   */
  public Entry show(String id) {
    Path entry = entryPath(id);
    if (!Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
      throw notFound(id);
    }
    return readEntry(entry);
  }

  /**
   * Releases an entry: returns its content and removes it from the store. Each part is checked
   * against the SHA-256 recorded when it was quarantined.
   *
   * @throws KavachException with reason {@code IO} if there is no such entry or a part was modified
   *     (the entry is then left in place)
   */
  public Released approve(String id) {
    Path claimed = claim(id);
    try {
      Entry entry = readEntry(claimed);
      Map<String, byte[]> parts = new LinkedHashMap<>();
      for (int i = 0; i < entry.parts().size(); i++) {
        Part part = entry.parts().get(i);
        byte[] content = Files.readAllBytes(claimed.resolve("part-" + i));
        if (!MessageDigest.isEqual(
            sha256(content).getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            part.sha256().getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
          Files.move(claimed, entryPath(id), StandardCopyOption.ATOMIC_MOVE);
          throw new KavachException(
              Reason.IO,
              "part " + part.name() + " of quarantined output " + id + " was modified on disk");
        }
        parts.put(part.name(), content);
      }
      Trees.deleteRecursively(claimed);
      return new Released(entry, parts);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot release quarantined output " + id + ": " + e, e);
    }
  }

  /**
   * Deletes an entry and its content.
   *
   * @throws KavachException with reason {@code IO} if there is no such entry
   */
  public void reject(String id) {
    Path claimed = claim(id);
    try {
      Trees.deleteRecursively(claimed);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot delete quarantined output " + id + ": " + e, e);
    }
  }

  /** Moves the entry out of the listing so no one else can release it. */
  private Path claim(String id) {
    Path entry = entryPath(id);
    checkDirectory();
    Path claimed = dir.resolve(".claimed-" + id + "-" + HexFormat.of().formatHex(randomBytes(4)));
    try {
      Files.move(entry, claimed, StandardCopyOption.ATOMIC_MOVE);
      return claimed;
    } catch (NoSuchFileException e) {
      throw notFound(id);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot claim quarantined output " + id + ": " + e, e);
    }
  }

  private Path entryPath(String id) {
    Objects.requireNonNull(id, "id");
    // The id becomes a path: only our own format is accepted, never "..", "/" or anything else.
    if (!ID.matcher(id).matches()) {
      throw new KavachException(
          Reason.POLICY_INVALID, "quarantine id (\"" + id + "\") must be 32 lower-case hex digits");
    }
    return dir.resolve(id);
  }

  private KavachException notFound(String id) {
    return new KavachException(Reason.IO, "no quarantined output with id " + id + " in " + dir);
  }

  private void ensureDirectory() {
    try {
      Files.createDirectories(dir, DIR_MODE);
    } catch (FileAlreadyExistsException e) {
      // A file or link in the way: checkDirectory names it.
    } catch (IOException e) {
      throw new KavachException(
          Reason.IO, "cannot create quarantine directory " + dir + ": " + e, e);
    }
    checkDirectory();
  }

  /** The directory must be ours and closed to others: quarantined output may hold secrets. */
  private void checkDirectory() {
    PosixFileAttributes attrs;
    try {
      attrs = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot read quarantine directory " + dir + ": " + e, e);
    }
    if (!attrs.isDirectory()) {
      throw new KavachException(
          Reason.IO, "quarantine directory " + dir + " is not a directory (or is a link)");
    }
    Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
    open.addAll(attrs.permissions());
    open.retainAll(OTHERS);
    if (!open.isEmpty()) {
      throw new KavachException(
          Reason.IO,
          "quarantine directory "
              + dir
              + " is open to others ("
              + PosixFilePermissions.toString(attrs.permissions())
              + "); it must be rwx------");
    }
    String me = System.getProperty("user.name");
    if (!attrs.owner().getName().equals(me)) {
      throw new KavachException(
          Reason.IO,
          "quarantine directory " + dir + " belongs to " + attrs.owner().getName() + ", not " + me);
    }
  }

  private static void writePrivate(Path file, byte[] content) throws IOException {
    try (OutputStream out =
        Channels.newOutputStream(
            Files.newByteChannel(
                file,
                Set.of(
                    StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS),
                FILE_MODE))) {
      out.write(content);
    }
  }

  private Entry readEntry(Path entryDir) {
    Path meta = entryDir.resolve("metadata.json");
    try {
      return fromJson(JSON.readTree(Files.readAllBytes(meta)));
    } catch (IOException | RuntimeException e) {
      throw new KavachException(Reason.IO, "cannot read " + meta + ": " + e, e);
    }
  }

  private static ObjectNode toJson(Entry e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", e.id());
    n.put("sandbox_id", e.sandboxId());
    n.put("agent_id", e.agentId());
    n.put("exec_id", e.execId());
    n.put("quarantined_at", e.time().toString());
    n.put("status", e.status());
    n.put("worst", e.worst().toString());
    ArrayNode fs = n.putArray("findings");
    for (Finding f : e.findings()) {
      fs.addObject()
          .put("scanner", f.scanner())
          .put("severity", f.severity().toString())
          .put("category", f.category())
          .put("message", f.message())
          .put("evidence", f.evidence())
          .put("stream", f.stream())
          .put("offset", f.offset());
    }
    n.put("findings_omitted", e.findingsOmitted());
    ArrayNode ps = n.putArray("parts");
    for (int i = 0; i < e.parts().size(); i++) {
      Part p = e.parts().get(i);
      ps.addObject()
          .put("name", p.name())
          .put("file", "part-" + i)
          .put("bytes", p.bytes())
          .put("sha256", p.sha256());
    }
    return n;
  }

  private static Entry fromJson(JsonNode n) {
    List<Finding> findings = new ArrayList<>();
    for (JsonNode f : n.path("findings")) {
      findings.add(
          new Finding(
              f.path("scanner").asText(),
              Severity.valueOf(f.path("severity").asText().toUpperCase(java.util.Locale.ROOT)),
              f.path("category").asText(),
              f.path("message").asText(),
              f.path("evidence").asText(),
              f.path("stream").asText(),
              f.path("offset").asLong()));
    }
    List<Part> parts = new ArrayList<>();
    for (JsonNode p : n.path("parts")) {
      parts.add(
          new Part(p.path("name").asText(), p.path("bytes").asLong(), p.path("sha256").asText()));
    }
    JsonNode agent = n.path("agent_id");
    return new Entry(
        n.path("id").asText(),
        n.path("sandbox_id").asText(),
        agent.isTextual() ? agent.asText() : null,
        n.path("exec_id").asText(),
        Instant.parse(n.path("quarantined_at").asText()),
        n.path("status").asText(),
        Severity.valueOf(n.path("worst").asText().toUpperCase(java.util.Locale.ROOT)),
        findings,
        n.path("findings_omitted").asInt(),
        parts);
  }

  /** The metadata of an entry as JSON text, for the CLI. */
  public static String toJsonText(Entry e) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(e));
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }

  private static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static void deleteQuietly(Path p) {
    try {
      Trees.deleteRecursively(p);
    } catch (IOException e) {
      // The store failed already; that error is the one to report.
    }
  }

  @Override
  public String toString() {
    return "QuarantineStore[" + dir + "]";
  }
}
