package dev.kavach.backend.process.seccomp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A profile as the {@code linux.seccomp} object of an OCI runtime config ({@code config.json}), for
 * runc, crun and runsc.
 *
 * <p>The rules are written so that their order and overlap never matter: the cases of each system
 * call are cut into disjoint sets of {@code SCMP_CMP_MASKED_EQ} conditions on the arguments' low 32
 * bits (the same bits the compiled filter tests), and only sets whose action differs from {@code
 * defaultAction} become rules. Runtimes disagree on how overlapping rules with different actions
 * combine (libseccomp documents no order), so a profile that relied on "first case wins" would mean
 * different things on different runtimes; disjoint rules mean one thing everywhere.
 *
 * <p>Two things of the compiled filter an OCI profile cannot say, and are left to the runtime: the
 * action for another architecture's calls and x32 calls (we kill; libseccomp applies its bad-arch
 * action to architectures not listed), and the profile's action for numbers our tables do not name
 * ({@link SeccompProfile#unknownAction()}), which OCI rules, being by name, cannot address: those
 * get {@code defaultAction}.
 *
 * <pre>{@code
 * ObjectNode seccomp = OciSeccomp.toTree(SeccompProfile.resolve("strict"), Arch.host(), true);
 * ((ObjectNode) config.get("linux")).set("seccomp", seccomp);
 * }</pre>
 */
public final class OciSeccomp {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  /** More rules than this for one system call is a profile no runtime should be handed. */
  private static final int MAX_PATTERNS = 4096;

  private OciSeccomp() {}

  /**
   * The {@code linux.seccomp} object as a JSON tree, to embed in a runtime config.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} if a user profile's argument cases
   *     cannot be cut into a reasonable number of disjoint rules
   */
  public static ObjectNode toTree(SeccompProfile profile, Arch arch, boolean networkIsolated) {
    FilterSpec spec = FilterSpec.of(profile, arch, networkIsolated);
    SeccompAction dflt = profile.defaultAction();
    ObjectNode root = MAPPER.createObjectNode();
    root.put("defaultAction", dflt.ociName());
    if (dflt.kind() == SeccompAction.Kind.ERRNO) {
      root.put("defaultErrnoRet", dflt.errno());
    }
    root.putArray("architectures").add(arch.ociName());
    // Rules with the same action and conditions share one entry listing all their names.
    Map<String, ObjectNode> entries = new LinkedHashMap<>();
    ArrayNode syscalls = root.putArray("syscalls");
    arch.syscalls()
        .byNumber()
        .forEach(
            (nr, name) -> {
              FilterSpec.Decision d = spec.decision(nr);
              if (d == null) {
                return;
              }
              for (Map.Entry<SeccompAction, List<ArgPattern>> part :
                  partition(d, profile.name(), name).entrySet()) {
                if (part.getKey().equals(dflt)) {
                  continue;
                }
                for (ArgPattern p : part.getValue()) {
                  ObjectNode rule = rule(part.getKey(), p);
                  String key = rule.toString();
                  ObjectNode entry = entries.get(key);
                  if (entry == null) {
                    entry = rule;
                    entries.put(key, entry);
                    syscalls.add(entry);
                  }
                  ((ArrayNode) entry.get("names")).add(name);
                }
              }
            });
    return root;
  }

  /** The {@code linux.seccomp} object as indented JSON text. */
  public static String toJson(SeccompProfile profile, Arch arch, boolean networkIsolated) {
    try {
      return MAPPER.writeValueAsString(toTree(profile, arch, networkIsolated));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("writing a JSON tree cannot fail", e);
    }
  }

  /**
   * Cuts the argument space of one system call into disjoint patterns per action: what case 1 holds
   * for, then what case 2 holds for outside case 1, and so on; the rest takes the fallback.
   */
  static Map<SeccompAction, List<ArgPattern>> partition(
      FilterSpec.Decision d, String profile, String syscall) {
    Map<SeccompAction, List<ArgPattern>> parts = new LinkedHashMap<>();
    List<ArgPattern> rest = List.of(ArgPattern.any());
    for (ArgCase c : d.cases()) {
      List<ArgPattern> taken = parts.computeIfAbsent(c.action(), a -> new ArrayList<>());
      taken.addAll(intersect(rest, ArgPattern.hits(c)));
      rest = ArgPattern.merge(intersect(rest, ArgPattern.misses(c)));
      if (rest.size() + taken.size() > MAX_PATTERNS) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "seccomp profile "
                + profile
                + ": the argument cases of "
                + syscall
                + " cut into more than "
                + MAX_PATTERNS
                + " disjoint OCI rules; simplify them to export the profile");
      }
    }
    parts.computeIfAbsent(d.fallback(), a -> new ArrayList<>()).addAll(rest);
    parts.replaceAll((a, list) -> ArgPattern.merge(list));
    parts.values().removeIf(List::isEmpty);
    return parts;
  }

  private static List<ArgPattern> intersect(List<ArgPattern> a, List<ArgPattern> b) {
    List<ArgPattern> out = new ArrayList<>();
    for (ArgPattern x : a) {
      for (ArgPattern y : b) {
        ArgPattern both = x.intersect(y);
        if (both != null) {
          out.add(both);
        }
      }
    }
    return out;
  }

  private static ObjectNode rule(SeccompAction action, ArgPattern p) {
    ObjectNode rule = MAPPER.createObjectNode();
    rule.putArray("names");
    rule.put("action", action.ociName());
    if (action.kind() == SeccompAction.Kind.ERRNO) {
      rule.put("errnoRet", action.errno());
    }
    if (!p.unconstrained()) {
      ArrayNode args = rule.putArray("args");
      for (int i = 0; i < ArgCondition.ARGS; i++) {
        if (p.mask(i) != 0) {
          args.addObject()
              .put("index", i)
              .put("value", p.mask(i))
              .put("valueTwo", p.value(i))
              .put("op", "SCMP_CMP_MASKED_EQ");
        }
      }
    }
    return rule;
  }
}
