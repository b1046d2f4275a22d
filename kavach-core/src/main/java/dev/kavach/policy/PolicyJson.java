package dev.kavach.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict JSON reading and canonical writing of {@link SandboxPolicy}. Hand-walked rather than
 * data-bound so that every error names the JSON path of the offending value.
 */
final class PolicyJson {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  private static final Set<String> POLICY_FIELDS =
      Set.of(
          "seccomp_enabled",
          "seccomp_profile",
          "landlock_rules",
          "network",
          "read_only_rootfs",
          "memory_limit_mb",
          "cpu_limit",
          "max_pids",
          "max_file_size_mb",
          "data_dir",
          "best_effort");
  private static final Set<String> NETWORK_FIELDS =
      Set.of("enabled", "allowed_hosts", "allowed_ports", "denied_hosts");
  private static final Set<String> RULE_FIELDS = Set.of("path", "access");

  private PolicyJson() {}

  static SandboxPolicy parse(String json) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw invalid("not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw invalid("empty policy: expected a JSON object");
    }
    if (!root.isObject()) {
      throw invalid("$: expected a JSON object, got " + kind(root));
    }
    checkFields(root, "$", POLICY_FIELDS);
    SandboxPolicy.Builder b = SandboxPolicy.builder();
    boolean seccompEnabled = optBool(root, "seccomp_enabled", false);
    String profile = optString(root, "seccomp_profile");
    if (profile != null && !seccompEnabled) {
      throw invalid(
          "$.seccomp_profile: set to \"" + profile + "\" but $.seccomp_enabled is not true");
    }
    if (seccompEnabled) {
      at("$", () -> b.seccompProfile(profile == null ? "basic" : profile));
    }
    JsonNode rules = root.get("landlock_rules");
    if (rules != null && !rules.isNull()) {
      if (!rules.isArray()) {
        throw invalid("$.landlock_rules: expected an array, got " + kind(rules));
      }
      for (int i = 0; i < rules.size(); i++) {
        String path = "$.landlock_rules[" + i + "]";
        JsonNode rule = rules.get(i);
        if (!rule.isObject()) {
          throw invalid(path + ": expected an object {path, access}, got " + kind(rule));
        }
        checkFields(rule, path, RULE_FIELDS);
        String p = requiredString(rule, "path", path);
        String access = requiredString(rule, "access", path);
        FilesystemRule parsed =
            at(
                path,
                () -> new FilesystemRule(toPath("path", p), FilesystemRule.Access.parse(access)));
        b.filesystemRule(parsed);
      }
      at("$", b::build);
    }
    JsonNode network = root.get("network");
    if (network != null && !network.isNull()) {
      if (!network.isObject()) {
        throw invalid("$.network: expected an object, got " + kind(network));
      }
      checkFields(network, "$.network", NETWORK_FIELDS);
      boolean enabled = optBool(network, "enabled", false, "$.network");
      List<String> hosts = stringList(network, "allowed_hosts", "$.network");
      List<String> denied = stringList(network, "denied_hosts", "$.network");
      List<Integer> ports = new ArrayList<>();
      JsonNode portsNode = network.get("allowed_ports");
      if (portsNode != null && !portsNode.isNull()) {
        if (!portsNode.isArray()) {
          throw invalid("$.network.allowed_ports: expected an array, got " + kind(portsNode));
        }
        for (int i = 0; i < portsNode.size(); i++) {
          JsonNode port = portsNode.get(i);
          if (!port.isIntegralNumber() || !port.canConvertToInt()) {
            throw invalid(
                "$.network.allowed_ports[" + i + "]: expected a port number, got " + kind(port));
          }
          ports.add(port.intValue());
        }
      }
      at("$.network", () -> b.network(new NetworkPolicy(enabled, hosts, ports, denied)));
    }
    b.readOnlyRootfs(optBool(root, "read_only_rootfs", false));
    JsonNode mem = root.get("memory_limit_mb");
    if (mem != null && !mem.isNull()) {
      if (!mem.isIntegralNumber() || !mem.canConvertToLong()) {
        throw invalid("$.memory_limit_mb: expected a whole number of MiB, got " + kind(mem));
      }
      at("$", () -> b.memoryLimitMb(mem.longValue()));
    }
    JsonNode cpu = root.get("cpu_limit");
    if (cpu != null && !cpu.isNull()) {
      if (!cpu.isNumber()) {
        throw invalid("$.cpu_limit: expected a number of cores, got " + kind(cpu));
      }
      at("$", () -> b.cpuLimit(cpu.doubleValue()));
    }
    JsonNode pids = root.get("max_pids");
    if (pids != null && !pids.isNull()) {
      if (!pids.isIntegralNumber() || !pids.canConvertToInt()) {
        throw invalid("$.max_pids: expected a whole number, got " + kind(pids));
      }
      at("$", () -> b.maxPids(pids.intValue()));
    }
    JsonNode fsize = root.get("max_file_size_mb");
    if (fsize != null && !fsize.isNull()) {
      if (!fsize.isIntegralNumber() || !fsize.canConvertToLong()) {
        throw invalid("$.max_file_size_mb: expected a whole number of MiB, got " + kind(fsize));
      }
      at("$", () -> b.maxFileSizeMb(fsize.longValue()));
    }
    String dataDir = optString(root, "data_dir");
    if (dataDir != null) {
      at("$", () -> b.dataDir(toPath("data_dir", dataDir)));
    }
    b.bestEffort(optBool(root, "best_effort", false));
    return at("$", b::build);
  }

  static String write(SandboxPolicy p) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("seccomp_enabled", p.seccompEnabled());
    root.put("seccomp_profile", p.seccompProfile());
    ArrayNode rules = root.putArray("landlock_rules");
    for (FilesystemRule r : p.filesystemRules()) {
      rules.addObject().put("path", r.path().toString()).put("access", r.access().jsonName());
    }
    ObjectNode net = root.putObject("network");
    net.put("enabled", p.network().enabled());
    p.network().allowedHosts().forEach(net.putArray("allowed_hosts")::add);
    p.network().allowedPorts().forEach(net.putArray("allowed_ports")::add);
    p.network().deniedHosts().forEach(net.putArray("denied_hosts")::add);
    root.put("read_only_rootfs", p.readOnlyRootfs());
    root.put("memory_limit_mb", p.memoryLimitMb());
    root.put("cpu_limit", p.cpuLimit());
    root.put("max_pids", p.maxPids());
    root.put("max_file_size_mb", p.maxFileSizeMb());
    root.put("data_dir", p.dataDir() == null ? null : p.dataDir().toString());
    root.put("best_effort", p.bestEffort());
    try {
      return MAPPER.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("writing a JSON tree cannot fail", e);
    }
  }

  private static void checkFields(JsonNode node, String path, Set<String> allowed) {
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String name = field.getKey();
      if (!allowed.contains(name)) {
        throw invalid(
            path
                + "."
                + name
                + ": unknown field (known: "
                + String.join(", ", sorted(allowed))
                + ")");
      }
    }
  }

  private static List<String> sorted(Set<String> s) {
    List<String> l = new ArrayList<>(s);
    l.sort(null);
    return l;
  }

  private static boolean optBool(JsonNode node, String field, boolean dflt) {
    return optBool(node, field, dflt, "$");
  }

  private static boolean optBool(JsonNode node, String field, boolean dflt, String path) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isBoolean()) {
      throw invalid(path + "." + field + ": expected true or false, got " + kind(v));
    }
    return v.booleanValue();
  }

  private static String optString(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw invalid("$." + field + ": expected a string, got " + kind(v));
    }
    return v.textValue();
  }

  private static String requiredString(JsonNode node, String field, String path) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw invalid(path + "." + field + ": required");
    }
    if (!v.isTextual()) {
      throw invalid(path + "." + field + ": expected a string, got " + kind(v));
    }
    return v.textValue();
  }

  private static List<String> stringList(JsonNode node, String field, String path) {
    List<String> out = new ArrayList<>();
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return out;
    }
    if (!v.isArray()) {
      throw invalid(path + "." + field + ": expected an array of strings, got " + kind(v));
    }
    for (int i = 0; i < v.size(); i++) {
      JsonNode e = v.get(i);
      if (!e.isTextual()) {
        throw invalid(path + "." + field + "[" + i + "]: expected a string, got " + kind(e));
      }
      out.add(e.textValue());
    }
    return out;
  }

  private static Path toPath(String field, String s) {
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(field + " contains a NUL character");
    }
    try {
      return Path.of(s);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(
          field + " (\"" + s + "\") is invalid: " + e.getReason(), e);
    }
  }

  private static String kind(JsonNode n) {
    if (n.isTextual()) {
      return "the string \"" + n.textValue() + "\"";
    }
    if (n.isNumber() || n.isBoolean()) {
      return n.toString();
    }
    if (n.isArray()) {
      return "an array";
    }
    if (n.isObject()) {
      return "an object";
    }
    return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Runs a builder step and prefixes any validation error with the JSON path of the parent object.
   * Messages from the builder and the value types start with the field name.
   */
  private static <T> T at(String parent, java.util.function.Supplier<T> step) {
    try {
      return step.get();
    } catch (KavachException | IllegalArgumentException e) {
      throw invalid(parent + "." + e.getMessage());
    }
  }

  private static KavachException invalid(String message) {
    return new KavachException(Reason.POLICY_INVALID, "invalid policy: " + message);
  }
}
