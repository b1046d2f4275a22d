package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(120)
class OciSeccompTest {
  private static final Set<String> ACTIONS =
      Set.of(
          "SCMP_ACT_ALLOW",
          "SCMP_ACT_ERRNO",
          "SCMP_ACT_LOG",
          "SCMP_ACT_TRAP",
          "SCMP_ACT_KILL_THREAD",
          "SCMP_ACT_KILL_PROCESS");

  static Stream<Arguments> exports() {
    List<Arguments> all = new ArrayList<>();
    for (String profile : SeccompProfile.BUILT_IN) {
      for (Arch arch : Arch.values()) {
        for (boolean isolated : new boolean[] {false, true}) {
          all.add(Arguments.of(profile, arch, isolated));
        }
      }
    }
    return all.stream();
  }

  /** The text parses as JSON and has the shape of runtime-spec's {@code LinuxSeccomp}. */
  @ParameterizedTest(name = "{0} {1} isolated={2}")
  @MethodSource("exports")
  void isWellFormedOciSeccomp(String name, Arch arch, boolean isolated) throws IOException {
    JsonNode root =
        new ObjectMapper()
            .readTree(OciSeccomp.toJson(SeccompProfile.builtIn(name), arch, isolated));
    assertThat(root.get("defaultAction").asText()).isIn(ACTIONS);
    assertThat(root.get("architectures")).hasSize(1);
    assertThat(root.get("architectures").get(0).asText()).isEqualTo(arch.ociName());
    assertThat(root.get("syscalls").isArray()).isTrue();
    for (JsonNode e : root.get("syscalls")) {
      assertThat(e.get("names")).isNotEmpty();
      for (JsonNode n : e.get("names")) {
        assertThat(arch.syscalls().number(n.asText())).as(n.asText()).isPresent();
      }
      String action = e.get("action").asText();
      assertThat(action).isIn(ACTIONS);
      assertThat(action + e.path("errnoRet").asInt())
          .as("a rule with the default action would be redundant (libseccomp refuses it)")
          .isNotEqualTo(root.get("defaultAction").asText() + root.path("defaultErrnoRet").asInt());
      assertThat(e.has("errnoRet")).isEqualTo(action.equals("SCMP_ACT_ERRNO"));
      if (e.has("errnoRet")) {
        assertThat(e.get("errnoRet").asInt()).isBetween(1, 4095);
      }
      if (e.has("args")) {
        for (JsonNode a : e.get("args")) {
          assertThat(a.get("index").asInt()).isBetween(0, 5);
          assertThat(a.get("op").asText()).isEqualTo("SCMP_CMP_MASKED_EQ");
          long mask = a.get("value").asLong();
          assertThat(mask).isBetween(1L, 0xFFFF_FFFFL); // low 32 bits, like the compiled filter
          assertThat(a.get("valueTwo").asLong() & ~mask).isZero();
        }
      }
    }
    if (name.equals("strict")) {
      assertThat(root.get("defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
      assertThat(root.get("defaultErrnoRet").asInt()).isEqualTo(38);
    } else {
      assertThat(root.get("defaultAction").asText()).isEqualTo("SCMP_ACT_ALLOW");
      assertThat(root.has("defaultErrnoRet")).isFalse();
    }
  }

  /**
   * The property: evaluating the exported rules the way a runtime does (a rule matches when all its
   * conditions hold; no rule, the default) gives the profile's action for every system call of the
   * table on many argument vectors, and never more than one rule matches.
   */
  @ParameterizedTest(name = "{0} {1} isolated={2}")
  @MethodSource("exports")
  void meansWhatTheProfileMeans(String name, Arch arch, boolean isolated) throws IOException {
    SeccompProfile profile = SeccompProfile.builtIn(name);
    Rules rules =
        new Rules(new ObjectMapper().readTree(OciSeccomp.toJson(profile, arch, isolated)));
    SplittableRandom random = new SplittableRandom(11);
    List<long[]> argSets = argSets(profile, random);
    for (String syscall : arch.syscalls().names()) {
      for (long[] args : argSets) {
        assertThat(rules.evaluate(syscall, args))
            .as("%s %s %s", name, syscall, java.util.Arrays.toString(args))
            .isEqualTo(profile.decide(syscall, args, isolated));
      }
    }
  }

  /** Overlapping cases with different actions: first match wins, in the export too. */
  @Test
  void overlappingCasesKeepTheirOrder() throws IOException {
    SeccompProfile p =
        SeccompProfile.parse(
            "{\"name\": \"overlap\", \"default\": {\"action\": \"allow\"}, \"syscalls\": [{\"names\": [\"ioctl\", \"fcntl\"],"
                + " \"action\": \"errno\", \"errno\": \"EINVAL\", \"cases\": ["
                + "{\"if\": [{\"arg\": 1, \"op\": \"eq\", \"value\": 5}], \"action\": \"log\"},"
                + "{\"if\": [{\"arg\": 1, \"op\": \"any_bits\", \"value\": 4}, {\"arg\": 2, \"op\": \"lt\", \"value\": 100}], \"action\": \"trap\"},"
                + "{\"if\": [{\"arg\": 1, \"op\": \"ge\", \"value\": \"0x80000000\"}], \"action\": \"allow\"},"
                + "{\"if\": [{\"arg\": 2, \"op\": \"ne\", \"value\": 7}], \"action\": \"kill_process\"}]}]}",
            "overlap");
    Rules root = new Rules(new ObjectMapper().readTree(OciSeccomp.toJson(p, Arch.X86_64, false)));
    SplittableRandom random = new SplittableRandom(5);
    long[] interesting = {
      0, 4, 5, 6, 7, 99, 100, 101, 0x7fff_ffffL, 0x8000_0000L, 0xFFFF_FFFFL, 0x1_0000_0005L
    };
    for (long a1 : interesting) {
      for (long a2 : interesting) {
        long[] args = {0, a1, a2, 0, 0, 0};
        assertThat(root.evaluate("ioctl", args))
            .as("%x %x", a1, a2)
            .isEqualTo(p.decide("ioctl", args, false));
      }
    }
    for (int i = 0; i < 5000; i++) {
      long[] args = {
        0,
        random.nextBoolean() ? random.nextLong() : random.nextInt(8),
        random.nextBoolean() ? random.nextLong() : random.nextInt(200),
        0,
        0,
        0
      };
      assertThat(root.evaluate("fcntl", args)).isEqualTo(p.decide("fcntl", args, false));
    }
  }

  @Test
  void namesAnArchitectureLacksAreLeftOut() throws IOException {
    JsonNode arm =
        new ObjectMapper()
            .readTree(OciSeccomp.toJson(SeccompProfile.builtIn("strict"), Arch.AARCH64, true));
    JsonNode x86 =
        new ObjectMapper()
            .readTree(OciSeccomp.toJson(SeccompProfile.builtIn("strict"), Arch.X86_64, true));
    assertThat(arm.toString()).doesNotContain("\"open\"").contains("\"openat\"");
    assertThat(x86.toString()).contains("\"open\"").contains("\"arch_prctl\"");
  }

  /** The exported rules indexed by name, read independently of the exporter's own types. */
  static final class Rules {
    private final Map<String, List<JsonNode>> byName = new HashMap<>();
    private final SeccompAction dflt;

    Rules(JsonNode root) {
      for (JsonNode e : root.get("syscalls")) {
        for (JsonNode n : e.get("names")) {
          byName.computeIfAbsent(n.asText(), k -> new ArrayList<>()).add(e);
        }
      }
      dflt = action(root.get("defaultAction").asText(), root.path("defaultErrnoRet").asInt(0));
    }

    SeccompAction evaluate(String syscall, long[] args) {
      List<SeccompAction> matched = new ArrayList<>();
      for (JsonNode e : byName.getOrDefault(syscall, List.of())) {
        boolean all = true;
        for (JsonNode a : e.path("args")) {
          long arg = args[a.get("index").asInt()];
          all &= (arg & a.get("value").asLong()) == a.get("valueTwo").asLong();
        }
        if (all) {
          matched.add(action(e.get("action").asText(), e.path("errnoRet").asInt(0)));
        }
      }
      assertThat(matched).as("rules matching %s", syscall).hasSizeLessThanOrEqualTo(1);
      return matched.isEmpty() ? dflt : matched.get(0);
    }
  }

  private static SeccompAction action(String oci, int errno) {
    for (SeccompAction.Kind k : SeccompAction.Kind.values()) {
      if (new SeccompAction(k, k == SeccompAction.Kind.ERRNO ? 1 : 0).ociName().equals(oci)) {
        return new SeccompAction(k, k == SeccompAction.Kind.ERRNO ? errno : 0);
      }
    }
    throw new AssertionError(oci);
  }

  private static List<long[]> argSets(SeccompProfile profile, SplittableRandom random) {
    List<long[]> sets = new ArrayList<>();
    sets.add(new long[6]);
    for (SyscallRule r : profile.rules()) {
      for (ArgCase c : r.cases()) {
        long[] all = new long[6];
        for (ArgCondition cond : c.conditions()) {
          all[cond.index()] = cond.value();
          for (long delta : new long[] {-1, 0, 1}) {
            long[] one = new long[6];
            one[cond.index()] = (cond.value() + delta) & 0xFFFF_FFFFL;
            sets.add(one);
            long[] high = one.clone();
            high[cond.index()] |= (random.nextLong() | 1L) << 32;
            sets.add(high);
          }
        }
        sets.add(all);
        long[] alsoArg2 = all.clone();
        alsoArg2[2] = 9; // NETLINK_AUDIT next to AF_NETLINK
        sets.add(alsoArg2);
      }
    }
    for (int i = 0; i < 40; i++) {
      long[] a = new long[6];
      for (int j = 0; j < 6; j++) {
        a[j] = random.nextInt(3) == 0 ? random.nextInt(64) : random.nextLong();
      }
      sets.add(a);
    }
    return sets;
  }
}
