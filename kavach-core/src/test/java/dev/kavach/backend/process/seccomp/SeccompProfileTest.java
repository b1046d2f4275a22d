package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SeccompProfileTest {
  @TempDir Path dir;

  private static final String HEAD = "{\"name\": \"t\", \"default\": {\"action\": \"allow\"}, ";

  @Test
  void resolvesBuiltInNames() {
    assertThat(SeccompProfile.resolve("basic").name()).isEqualTo("basic");
    assertThat(SeccompProfile.resolve("strict").name()).isEqualTo("strict");
    assertThat(SeccompProfile.resolve("strict").source()).isEqualTo("built-in strict");
    assertThat(SeccompProfile.resolve("basic")).isSameAs(SeccompProfile.resolve("basic"));
  }

  @Test
  void anUnknownNameIsAnErrorNotBasic() {
    assertThatThrownBy(() -> SeccompProfile.resolve("strcit"))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("unknown seccomp profile \"strcit\"")
        .hasMessageContaining("basic, strict")
        .satisfies(
            e -> assertThat(((KavachException) e).reason()).isEqualTo(Reason.POLICY_INVALID));
    assertThatThrownBy(() -> SeccompProfile.resolve("profiles/mine.json"))
        .hasMessageContaining("absolute path");
  }

  @Test
  void loadsAUserProfileByAbsolutePath() throws IOException {
    Path f = dir.resolve("p.json");
    Files.writeString(
        f,
        "{\"name\": \"mine\", \"extends\": \"strict\", \"default\": {\"action\": \"kill_process\"},"
            + " \"syscalls\": [{\"names\": [\"mbind\"], \"action\": \"log\"},"
            + " {\"names\": [\"cachestat\"], \"action\": \"errno\", \"errno\": 13}]}");
    SeccompProfile p = SeccompProfile.resolve(f.toString());
    assertThat(p.name()).isEqualTo("mine");
    assertThat(p.source()).isEqualTo(f.toString());
    assertThat(p.defaultAction()).isEqualTo(SeccompAction.killProcess());
    assertThat(p.unknownAction()).isEqualTo(SeccompAction.killProcess());
    assertThat(p.decide("cachestat", new long[6], false)).isEqualTo(SeccompAction.errno("EACCES"));
    // The extended profile's rules come along: strict's read and basic's ptrace.
    assertThat(p.decide("read", new long[6], false)).isEqualTo(SeccompAction.allow());
    assertThat(p.decide("ptrace", new long[6], false)).isEqualTo(SeccompAction.errno("EPERM"));
    assertThat(p.decide("syslog", new long[6], false)).isEqualTo(SeccompAction.errno("EPERM"));
    assertThat(p.decide("lsm_list_modules", new long[6], false))
        .isEqualTo(SeccompAction.killProcess());
  }

  @Test
  void aMissingOrOversizedFileIsNamed() throws IOException {
    assertThatThrownBy(() -> SeccompProfile.resolve(dir.resolve("nope.json").toString()))
        .hasMessageContaining("nope.json: no such file");
    Path big = dir.resolve("big.json");
    Files.write(big, new byte[SeccompProfile.MAX_FILE_BYTES + 1]);
    assertThatThrownBy(() -> SeccompProfile.load(big)).hasMessageContaining("larger than");
    Path latin = dir.resolve("latin.json");
    Files.write(latin, new byte[] {'{', (byte) 0xe9, '}'});
    assertThatThrownBy(() -> SeccompProfile.load(latin)).hasMessageContaining("not valid UTF-8");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "unknown syscall | \"syscalls\": [{\"names\": [\"read\", \"raed\"], \"action\": \"allow\"}]}"
            + " | $.syscalls[0].names[1]: unknown system call \"raed\"",
        "i386-only syscall | \"syscalls\": [{\"names\": [\"vm86\"], \"action\": \"allow\"}]}"
            + " | $.syscalls[0].names[0]: unknown system call \"vm86\"",
        "unknown action | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"deny\"}]}"
            + " | $.syscalls[0].action: unknown action \"deny\"",
        "notify | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"notify\"}]}"
            + " | no tracer or notification listener",
        "errno name | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"errno\", \"errno\": \"EPREM\"}]}"
            + " | $.syscalls[0].errno: unknown errno name \"EPREM\"",
        "errno zero | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"errno\", \"errno\": 0}]}"
            + " | $.syscalls[0].errno: errno (0) must be between 1 and 4095",
        "errno too big | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"errno\", \"errno\": 4096}]}"
            + " | $.syscalls[0].errno: errno (4096) must be between 1 and 4095",
        "errno missing | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"errno\"}]}"
            + " | $.syscalls[0]: the errno action needs an \"errno\"",
        "errno on allow | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"allow\", \"errno\": 1}]}"
            + " | $.syscalls[0].errno: only the errno action takes an errno",
        "unknown field | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"allow\", \"args\": []}]}"
            + " | $.syscalls[0].args: unknown field",
        "twice | \"syscalls\": [{\"names\": [\"read\"], \"action\": \"allow\"}, {\"names\": [\"read\"], \"action\": \"log\"}]}"
            + " | $.syscalls[1].names[0]: \"read\" already has a rule in $.syscalls[0].names[0]",
        "unknown op | \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": [{\"if\": [{\"arg\": 1, \"op\": \"==\", \"value\": 1}], \"action\": \"log\"}]}]}"
            + " | $.syscalls[0].cases[0].if[0].op: unknown operator \"==\"",
        "bad arg | \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": [{\"if\": [{\"arg\": 6, \"op\": \"eq\", \"value\": 1}], \"action\": \"log\"}]}]}"
            + " | $.syscalls[0].cases[0].if[0].arg: expected an argument number from 0 to 5",
        "64-bit value | \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": [{\"if\": [{\"arg\": 1, \"op\": \"eq\", \"value\": 4294967296}], \"action\": \"log\"}]}]}"
            + " | $.syscalls[0].cases[0].if[0].value: 4294967296 does not fit in 32 bits",
        "unknown symbol | \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": [{\"if\": [{\"arg\": 1, \"op\": \"eq\", \"value\": \"TIOCSIT\"}], \"action\": \"log\"}]}]}"
            + " | $.syscalls[0].cases[0].if[0].value: \"TIOCSIT\" is not a number or a known symbol",
        "mask | \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": [{\"if\": [{\"arg\": 1, \"op\": \"masked_eq\", \"mask\": 1, \"value\": 3}], \"action\": \"log\"}]}]}"
            + " | $.syscalls[0].cases[0].if[0]: masked_eq value 0x3 has bits outside mask 0x1",
        "same arg twice | \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": [{\"if\": [{\"arg\": 1, \"op\": \"gt\", \"value\": 1}, {\"arg\": 1, \"op\": \"lt\", \"value\": 9}], \"action\": \"log\"}]}]}"
            + " | $.syscalls[0].cases[0].if: arg 1 is tested twice in one case",
        "unreachable | \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": [{\"action\": \"log\"}, {\"if\": [{\"arg\": 1, \"op\": \"eq\", \"value\": 1}], \"action\": \"trap\"}]}]}"
            + " | $.syscalls[0].cases[1]: unreachable",
        "network | \"syscalls\": [{\"names\": [\"socket\"], \"action\": \"allow\", \"cases\": [{\"network\": \"off\", \"action\": \"log\"}]}]}"
            + " | $.syscalls[0].cases[0].network: the only value is \"isolated\"",
        "not an array | \"syscalls\": {}}" + " | $.syscalls: expected an array",
      })
  void refusesABadProfileNamingTheEntry(String what, String tail, String message) {
    assertThatThrownBy(() -> SeccompProfile.parse(HEAD + tail, "test.json"))
        .isInstanceOf(KavachException.class)
        .hasMessageStartingWith("seccomp profile test.json: ")
        .hasMessageContaining(message);
  }

  @Test
  void refusesBadRoots() {
    assertThatThrownBy(() -> SeccompProfile.parse("[]", "x"))
        .hasMessageContaining("$: expected a JSON object");
    assertThatThrownBy(() -> SeccompProfile.parse("{", "x")).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> SeccompProfile.parse("{\"name\": \"t\", \"syscalls\": []}", "x"))
        .hasMessageContaining("$.default: missing");
    assertThatThrownBy(() -> SeccompProfile.parse(HEAD + "\"format\": 2, \"syscalls\": []}", "x"))
        .hasMessageContaining("$.format: only format 1 exists");
    assertThatThrownBy(
            () ->
                SeccompProfile.parse(HEAD + "\"extends\": \"/etc/x.json\", \"syscalls\": []}", "x"))
        .hasMessageContaining("$.extends: \"/etc/x.json\" is not a built-in profile");
    assertThatThrownBy(
            () ->
                SeccompProfile.parse(
                    HEAD
                        + "\"extends\": \"basic\", \"syscalls\": [{\"names\": [\"ptrace\"], \"action\": \"allow\"}]}",
                    "x"))
        .hasMessageContaining("\"ptrace\" already has a rule in the extended profile basic");
    assertThatThrownBy(
            () -> SeccompProfile.parse(HEAD + "\"syscalls\": [], \"syscalls\": []}", "x"))
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void aNameMissingOnOneArchitectureIsFine() {
    SeccompProfile p =
        SeccompProfile.parse(
            HEAD + "\"syscalls\": [{\"names\": [\"open\"], \"action\": \"log\"}]}", "x");
    assertThat(p.rule("open")).isNotNull();
    BpfProgram arm = SeccompCompiler.compile(p, Arch.AARCH64, false);
    assertThat(BpfInterpreter.of(arm).action(SeccompData.of(Arch.AARCH64, 56)))
        .isEqualTo(SeccompAction.allow());
  }
}
