package dev.kavach.backend.process.seccomp;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A seccomp profile: a default action, an action for numbers the kernel tables do not name, and
 * rules for named system calls with optional argument checks. Profiles are data: the built-in ones
 * are {@code basic.json} and {@code strict.json} in this package, and users may load their own file
 * in the same format:
 *
 * <pre>
 * {
 *   "format": 1,                              optional; the only version
 *   "name": "build-tools",
 *   "description": "...",                     optional
 *   "extends": "strict",                      optional: a built-in profile whose rules come first
 *   "default": {"action": "errno", "errno": "ENOSYS"},
 *   "unknown": {"action": "errno", "errno": "ENOSYS"},   optional; else the default
 *   "syscalls": [
 *     {"names": ["mbind"], "action": "allow", "why": "..."},
 *     {"names": ["ioctl"], "action": "allow",
 *      "cases": [{"if": [{"arg": 1, "op": "eq", "value": "TIOCSTI"}],
 *                 "action": "errno", "errno": "EPERM"}]}
 *   ]
 * }
 * </pre>
 *
 * Actions: {@code allow}, {@code errno} (with {@code "errno"}: a name such as {@code "EPERM"} or
 * 1..4095), {@code log}, {@code trap}, {@code kill_thread}, {@code kill_process}. A rule's cases
 * are tried in order and the first whose conditions all hold decides; a case with {@code "network":
 * "isolated"} applies only to filters compiled for an isolated network. Conditions compare an
 * argument's low 32 bits ({@link ArgCondition}) with {@code eq}, {@code ne}, {@code lt}, {@code
 * le}, {@code gt}, {@code ge}, {@code masked_eq} (with {@code "mask"}) or {@code any_bits}; values
 * are numbers or symbols of {@code constants.txt} joined with {@code |}. A system call may have one
 * rule only, also across {@code extends}; a name must be in the x86_64 or aarch64 table (a name one
 * architecture lacks is skipped there).
 *
 * <pre>{@code
 * SeccompProfile strict = SeccompProfile.resolve("strict");
 * SeccompProfile mine = SeccompProfile.resolve("/etc/kavach/build-tools.json");
 * }</pre>
 */
public final class SeccompProfile {
  /** Names of the profiles shipped with kavach. */
  public static final List<String> BUILT_IN = List.of("basic", "strict");

  /** Profile files larger than this are refused rather than read. */
  public static final int MAX_FILE_BYTES = 1024 * 1024;

  private final String name;
  private final String description;
  private final String source;
  private final SeccompAction defaultAction;
  private final SeccompAction unknownAction;
  private final List<SyscallRule> rules;
  private final Map<String, SyscallRule> bySyscall;

  SeccompProfile(
      String name,
      String description,
      String source,
      SeccompAction defaultAction,
      SeccompAction unknownAction,
      List<SyscallRule> rules) {
    this.name = Objects.requireNonNull(name, "name");
    this.description = Objects.requireNonNull(description, "description");
    this.source = Objects.requireNonNull(source, "source");
    this.defaultAction = Objects.requireNonNull(defaultAction, "defaultAction");
    this.unknownAction = Objects.requireNonNull(unknownAction, "unknownAction");
    this.rules = List.copyOf(rules);
    Map<String, SyscallRule> m = new LinkedHashMap<>();
    for (SyscallRule r : this.rules) {
      for (String n : r.names()) {
        if (m.put(n, r) != null) {
          throw new IllegalArgumentException("system call " + n + " has two rules");
        }
      }
    }
    this.bySyscall = Collections.unmodifiableMap(m);
  }

  /**
   * A built-in profile by name, or a profile file by absolute path: the form of a policy's {@code
   * seccomp_profile}. Anything else is an error; there is no fallback to {@code basic}.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} naming the profile and the problem
   */
  public static SeccompProfile resolve(String nameOrPath) {
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    if (BUILT_IN.contains(nameOrPath)) {
      return builtIn(nameOrPath);
    }
    if (nameOrPath.startsWith("/")) {
      return load(Path.of(nameOrPath));
    }
    throw new KavachException(
        Reason.POLICY_INVALID,
        "unknown seccomp profile \""
            + nameOrPath
            + "\" (use "
            + String.join(", ", BUILT_IN)
            + " or an absolute path to a profile file)");
  }

  /**
   * A built-in profile.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} for an unknown name
   */
  public static SeccompProfile builtIn(String name) {
    SeccompProfile p = BuiltIns.PROFILES.get(name);
    if (p == null) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "unknown built-in seccomp profile \""
              + name
              + "\" (use "
              + String.join(", ", BUILT_IN)
              + ")");
    }
    return p;
  }

  /**
   * Reads a profile file. It may extend a built-in profile.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} if the file is missing, too large,
   *     not UTF-8 or not a valid profile; the message names the file and the offending entry
   */
  public static SeccompProfile load(Path file) {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_FILE_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw invalid("seccomp profile " + file + ": no such file", e);
    } catch (IOException e) {
      throw invalid("seccomp profile " + file + ": cannot read: " + e.getMessage(), e);
    }
    if (bytes.length > MAX_FILE_BYTES) {
      throw invalid(
          "seccomp profile " + file + " is larger than " + MAX_FILE_BYTES + " bytes", null);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw invalid("seccomp profile " + file + " is not valid UTF-8", e);
    }
    return parse(text, file.toString());
  }

  /**
   * Parses a profile. Parsing is strict: an unknown field, system call, action, errno, operator or
   * symbol is an error naming its JSON path.
   *
   * @param source where the text came from, for messages
   * @throws KavachException with {@link Reason#POLICY_INVALID}
   */
  public static SeccompProfile parse(String json, String source) {
    return ProfileJson.parse(json, source, SeccompProfile::builtIn);
  }

  private static KavachException invalid(String message, @Nullable Throwable cause) {
    return new KavachException(Reason.POLICY_INVALID, message, cause);
  }

  /** The profile's name. */
  public String name() {
    return name;
  }

  /** What the profile is for. */
  public String description() {
    return description;
  }

  /** Where the profile came from: {@code built-in basic} or a file path. */
  public String source() {
    return source;
  }

  /** The action for a named system call no rule mentions. */
  public SeccompAction defaultAction() {
    return defaultAction;
  }

  /**
   * The action for a system call number the architecture's table does not name: a number newer than
   * our tables, or a gap. A default-allow profile still refuses these, so a system call added to a
   * future kernel is not allowed before anyone has looked at it.
   */
  public SeccompAction unknownAction() {
    return unknownAction;
  }

  /** The rules, parent profile's first. */
  public List<SyscallRule> rules() {
    return rules;
  }

  /** The rule for a system call name, or null if the default applies. */
  public @Nullable SyscallRule rule(String syscall) {
    return bySyscall.get(syscall);
  }

  /** Every system call name a rule mentions. */
  public java.util.Set<String> syscallNames() {
    return bySyscall.keySet();
  }

  /**
   * The action for a call of a named system call: the profile's semantics, without architecture
   * checks. The compiled filter gives the same answer (tests check this on many inputs).
   */
  public SeccompAction decide(String syscall, long[] args, boolean networkIsolated) {
    SyscallRule r = bySyscall.get(syscall);
    return r == null ? defaultAction : r.decide(args, networkIsolated);
  }

  @Override
  public String toString() {
    return "SeccompProfile["
        + name
        + " from "
        + source
        + ", "
        + bySyscall.size()
        + " system calls]";
  }

  /** The built-in profiles, parsed once; {@code strict} extends {@code basic}. */
  private static final class BuiltIns {
    static final Map<String, SeccompProfile> PROFILES = load();

    private static Map<String, SeccompProfile> load() {
      Map<String, SeccompProfile> m = new LinkedHashMap<>();
      Function<String, SeccompProfile> parents =
          n -> {
            SeccompProfile p = m.get(n);
            if (p == null) {
              throw new IllegalArgumentException("built-in profile " + n + " is not loaded yet");
            }
            return p;
          };
      for (String name : BUILT_IN) {
        m.put(name, ProfileJson.parse(DataFiles.text(name + ".json"), "built-in " + name, parents));
      }
      return Collections.unmodifiableMap(m);
    }
  }
}
