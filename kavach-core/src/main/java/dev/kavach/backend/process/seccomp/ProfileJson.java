package dev.kavach.backend.process.seccomp;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Strict reading of the profile format described in {@link SeccompProfile}. Hand-walked rather than
 * data-bound so that every error names the JSON path of the offending value.
 */
final class ProfileJson {
  static final int FORMAT = 1;

  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  private static final Set<String> ROOT_FIELDS =
      Set.of(
          "format", "name", "description", "comment", "extends", "default", "unknown", "syscalls");
  private static final Set<String> ACTION_FIELDS = Set.of("action", "errno", "why");
  private static final Set<String> RULE_FIELDS = Set.of("names", "action", "errno", "why", "cases");
  private static final Set<String> CASE_FIELDS = Set.of("if", "network", "action", "errno", "why");
  private static final Set<String> CONDITION_FIELDS = Set.of("arg", "op", "value", "mask");

  private final String source;

  private ProfileJson(String source) {
    this.source = source;
  }

  static SeccompProfile parse(
      String json, String source, Function<String, SeccompProfile> builtIns) {
    return new ProfileJson(source).parse(json, builtIns);
  }

  private SeccompProfile parse(String json, Function<String, SeccompProfile> builtIns) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw invalid("not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode() || !root.isObject()) {
      throw invalid("$: expected a JSON object");
    }
    checkFields(root, "$", ROOT_FIELDS);
    JsonNode format = root.get("format");
    if (format != null && !(format.isIntegralNumber() && format.asInt() == FORMAT)) {
      throw invalid("$.format: only format " + FORMAT + " exists, got " + format);
    }
    String name = requiredString(root, "name", "$");
    if (name.isBlank()) {
      throw invalid("$.name: must not be blank");
    }
    String description = optionalString(root, "description", "$");
    JsonNode comment = root.get("comment");
    if (comment != null && !comment.isTextual() && !comment.isArray()) {
      throw invalid("$.comment: expected a string or an array of strings");
    }
    List<SyscallRule> rules = new ArrayList<>();
    Map<String, String> decidedAt = new HashMap<>();
    String parentName = optionalString(root, "extends", "$");
    if (parentName != null) {
      if (!SeccompProfile.BUILT_IN.contains(parentName)) {
        throw invalid(
            "$.extends: \""
                + parentName
                + "\" is not a built-in profile (use "
                + String.join(", ", SeccompProfile.BUILT_IN)
                + ")");
      }
      SeccompProfile parent = builtIns.apply(parentName);
      rules.addAll(parent.rules());
      parent.syscallNames().forEach(n -> decidedAt.put(n, "the extended profile " + parentName));
    }
    SeccompAction dflt = action(required(root, "default", "$"), "$.default", ACTION_FIELDS);
    JsonNode unknownNode = root.get("unknown");
    SeccompAction unknown =
        unknownNode == null ? dflt : action(unknownNode, "$.unknown", ACTION_FIELDS);
    JsonNode syscalls = required(root, "syscalls", "$");
    if (!syscalls.isArray()) {
      throw invalid("$.syscalls: expected an array, got " + kind(syscalls));
    }
    for (int i = 0; i < syscalls.size(); i++) {
      rules.add(rule(syscalls.get(i), "$.syscalls[" + i + "]", decidedAt));
    }
    return new SeccompProfile(
        name, description == null ? "" : description, source, dflt, unknown, rules);
  }

  private SyscallRule rule(JsonNode node, String path, Map<String, String> decidedAt) {
    if (!node.isObject()) {
      throw invalid(path + ": expected an object, got " + kind(node));
    }
    checkFields(node, path, RULE_FIELDS);
    JsonNode namesNode = required(node, "names", path);
    if (!namesNode.isArray() || namesNode.isEmpty()) {
      throw invalid(path + ".names: expected a non-empty array of system call names");
    }
    List<String> names = new ArrayList<>();
    for (int j = 0; j < namesNode.size(); j++) {
      String at = path + ".names[" + j + "]";
      JsonNode n = namesNode.get(j);
      if (!n.isTextual()) {
        throw invalid(at + ": expected a system call name, got " + kind(n));
      }
      String name = n.asText();
      if (!SyscallTable.knownAnywhere(name)) {
        throw invalid(
            at
                + ": unknown system call \""
                + name
                + "\" (in neither the x86_64 nor the aarch64 table)");
      }
      String earlier = decidedAt.putIfAbsent(name, at);
      if (earlier != null) {
        throw invalid(at + ": \"" + name + "\" already has a rule in " + earlier);
      }
      names.add(name);
    }
    SeccompAction action = action(node, path, RULE_FIELDS);
    List<ArgCase> cases = new ArrayList<>();
    JsonNode casesNode = node.get("cases");
    if (casesNode != null) {
      if (!casesNode.isArray()) {
        throw invalid(path + ".cases: expected an array, got " + kind(casesNode));
      }
      for (int j = 0; j < casesNode.size(); j++) {
        cases.add(argCase(casesNode.get(j), path + ".cases[" + j + "]", cases));
      }
    }
    return new SyscallRule(names, action, cases, whyOf(node));
  }

  private ArgCase argCase(JsonNode node, String path, List<ArgCase> earlier) {
    if (!node.isObject()) {
      throw invalid(path + ": expected an object, got " + kind(node));
    }
    checkFields(node, path, CASE_FIELDS);
    boolean isolatedOnly = false;
    String network = optionalString(node, "network", path);
    if (network != null) {
      if (!network.equals("isolated")) {
        throw invalid(path + ".network: the only value is \"isolated\", got \"" + network + "\"");
      }
      isolatedOnly = true;
    }
    for (ArgCase e : earlier) {
      // A case behind an unconditional one never runs: almost certainly a mistake in the file.
      if (e.unconditional() && (!e.networkIsolatedOnly() || isolatedOnly)) {
        throw invalid(path + ": unreachable, an earlier case of this rule always holds");
      }
    }
    List<ArgCondition> conditions = new ArrayList<>();
    JsonNode ifNode = node.get("if");
    if (ifNode != null) {
      if (!ifNode.isArray()) {
        throw invalid(path + ".if: expected an array of conditions, got " + kind(ifNode));
      }
      for (int k = 0; k < ifNode.size(); k++) {
        conditions.add(condition(ifNode.get(k), path + ".if[" + k + "]"));
      }
    }
    SeccompAction action = action(node, path, CASE_FIELDS);
    try {
      return new ArgCase(conditions, action, isolatedOnly, whyOf(node));
    } catch (IllegalArgumentException e) {
      throw invalid(path + ".if: " + e.getMessage());
    }
  }

  private ArgCondition condition(JsonNode node, String path) {
    if (!node.isObject()) {
      throw invalid(path + ": expected an object {arg, op, value}, got " + kind(node));
    }
    checkFields(node, path, CONDITION_FIELDS);
    JsonNode argNode = required(node, "arg", path);
    if (!argNode.isIntegralNumber()
        || argNode.asInt() < 0
        || argNode.asInt() >= ArgCondition.ARGS) {
      throw invalid(path + ".arg: expected an argument number from 0 to 5, got " + argNode);
    }
    String opName = requiredString(node, "op", path);
    ArgCondition.Op op = null;
    for (ArgCondition.Op o : ArgCondition.Op.values()) {
      if (o.jsonName().equals(opName)) {
        op = o;
      }
    }
    if (op == null) {
      throw invalid(
          path
              + ".op: unknown operator \""
              + opName
              + "\" (use "
              + names(ArgCondition.Op.values())
              + ")");
    }
    long value = value(required(node, "value", path), path + ".value");
    JsonNode maskNode = node.get("mask");
    if ((op == ArgCondition.Op.MASKED_EQ) != (maskNode != null)) {
      throw invalid(
          path
              + (op == ArgCondition.Op.MASKED_EQ
                  ? ": masked_eq needs a mask"
                  : ".mask: only masked_eq takes a mask"));
    }
    long mask = maskNode == null ? 0 : value(maskNode, path + ".mask");
    try {
      return new ArgCondition(argNode.asInt(), op, value, mask);
    } catch (IllegalArgumentException e) {
      throw invalid(path + ": " + e.getMessage());
    }
  }

  private long value(JsonNode node, String path) {
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      long v = node.asLong();
      if (v < 0 || v > 0xFFFF_FFFFL) {
        throw invalid(
            path
                + ": "
                + v
                + " does not fit in 32 bits (arguments are tested on their low 32 bits)");
      }
      return v;
    }
    if (node.isTextual()) {
      OptionalLong v = KernelConstants.value(node.asText());
      if (v.isEmpty()) {
        throw invalid(
            path
                + ": \""
                + node.asText()
                + "\" is not a number or a known symbol (symbols: "
                + String.join(", ", new TreeSet<>(KernelConstants.symbols().keySet()))
                + ")");
      }
      return v.getAsLong();
    }
    throw invalid(path + ": expected a number or a symbol, got " + kind(node));
  }

  private SeccompAction action(JsonNode node, String path, Set<String> fields) {
    if (!node.isObject()) {
      throw invalid(path + ": expected an object with an action, got " + kind(node));
    }
    if (fields == ACTION_FIELDS) {
      checkFields(node, path, ACTION_FIELDS);
    }
    String name = requiredString(node, "action", path);
    SeccompAction.Kind kind = null;
    for (SeccompAction.Kind k : SeccompAction.Kind.values()) {
      if (k.jsonName().equals(name)) {
        kind = k;
      }
    }
    if (kind == null) {
      String hint =
          name.equals("notify") || name.equals("trace")
              ? " (the launcher runs no tracer or notification listener)"
              : "";
      throw invalid(
          path
              + ".action: unknown action \""
              + name
              + "\""
              + hint
              + " (use "
              + names(SeccompAction.Kind.values())
              + ")");
    }
    JsonNode errnoNode = node.get("errno");
    if (kind != SeccompAction.Kind.ERRNO) {
      if (errnoNode != null) {
        throw invalid(path + ".errno: only the errno action takes an errno");
      }
      return new SeccompAction(kind, 0);
    }
    if (errnoNode == null) {
      throw invalid(
          path + ": the errno action needs an \"errno\" (a name like \"EPERM\" or 1..4095)");
    }
    int errno;
    if (errnoNode.isTextual()) {
      OptionalInt e = KernelConstants.errno(errnoNode.asText());
      if (e.isEmpty()) {
        throw invalid(path + ".errno: unknown errno name \"" + errnoNode.asText() + "\"");
      }
      errno = e.getAsInt();
    } else if (errnoNode.isIntegralNumber() && errnoNode.canConvertToInt()) {
      errno = errnoNode.asInt();
    } else {
      throw invalid(path + ".errno: expected an errno name or number, got " + kind(errnoNode));
    }
    try {
      return SeccompAction.errno(errno);
    } catch (IllegalArgumentException e) {
      throw invalid(path + ".errno: " + e.getMessage());
    }
  }

  private String whyOf(JsonNode node) {
    JsonNode why = node.get("why");
    return why == null ? "" : why.asText();
  }

  private static String names(Enum<?>[] values) {
    List<String> l = new ArrayList<>();
    for (Enum<?> v : values) {
      l.add(v.name().toLowerCase(Locale.ROOT));
    }
    return String.join(", ", l);
  }

  private void checkFields(JsonNode node, String path, Set<String> allowed) {
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (!allowed.contains(field.getKey())) {
        throw invalid(
            path
                + "."
                + field.getKey()
                + ": unknown field (known: "
                + String.join(", ", new TreeSet<>(allowed))
                + ")");
      }
    }
  }

  private JsonNode required(JsonNode node, String field, String path) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw invalid(path + "." + field + ": missing");
    }
    return v;
  }

  private String requiredString(JsonNode node, String field, String path) {
    JsonNode v = required(node, field, path);
    if (!v.isTextual()) {
      throw invalid(path + "." + field + ": expected a string, got " + kind(v));
    }
    return v.asText();
  }

  private @Nullable String optionalString(JsonNode node, String field, String path) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw invalid(path + "." + field + ": expected a string, got " + kind(v));
    }
    return v.asText();
  }

  private static String kind(JsonNode n) {
    return n.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  private KavachException invalid(String message) {
    return new KavachException(Reason.POLICY_INVALID, "seccomp profile " + source + ": " + message);
  }
}
