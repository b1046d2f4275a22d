package dev.kavach.backend.microvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.internal.guest.GuestMachine;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirecrackerConfigTest {
  private static final GuestMachine MACHINE = new GuestMachine(3, 512, 2.5);

  @Test
  void goldenConfig() {
    FirecrackerConfig c =
        new FirecrackerConfig(
            "/vmlinux", "/rootfs.ext4", "/workspace.ext4", "/v.sock", MACHINE, 5005);
    assertThat(c.toJson())
        .isEqualTo(
            """
            {
              "boot-source" : {
                "kernel_image_path" : "/vmlinux",
                "boot_args" : "console=ttyS0 reboot=k panic=1 pci=off quiet loglevel=1 \
            init=/sbin/kavach-agent kavach.port=5005 kavach.workspace=/dev/vdb"
              },
              "drives" : [ {
                "drive_id" : "rootfs",
                "path_on_host" : "/rootfs.ext4",
                "is_root_device" : true,
                "is_read_only" : true
              }, {
                "drive_id" : "workspace",
                "path_on_host" : "/workspace.ext4",
                "is_root_device" : false,
                "is_read_only" : false
              } ],
              "machine-config" : {
                "vcpu_count" : 3,
                "mem_size_mib" : 512,
                "smt" : false
              },
              "network-interfaces" : [ ],
              "vsock" : {
                "guest_cid" : 3,
                "uds_path" : "/v.sock"
              }
            }
            """);
  }

  @Test
  void hostilePathsStayJsonStrings() {
    String evil = "/tmp/x\",\"is_read_only\":false,\"y\":\"\n";
    String json = new FirecrackerConfig("/vmlinux", evil, "/w", "/v.sock", MACHINE, 5005).toJson();
    assertThat(json).contains("\"path_on_host\" : \"/tmp/x\\\",\\\"is_read_only\\\":false");
    assertThat(json.split("\"is_read_only\" : ")).hasSize(3);
  }

  @Test
  void machineFromPolicyFollowsTheRustRuleAndRefusesNonsense() {
    assertThat(GuestMachine.from(SandboxPolicy.minimal(), 256, 64, 32, "Firecracker"))
        .isEqualTo(new GuestMachine(1, 256, 0));
    assertThat(
            GuestMachine.from(
                SandboxPolicy.minimal().toBuilder().cpuLimit(2.5).memoryLimitMb(1024).build(),
                256,
                64,
                32,
                "Firecracker"))
        .isEqualTo(new GuestMachine(3, 1024, 2.5));
    assertThat(
            GuestMachine.from(
                SandboxPolicy.minimal().toBuilder().cpuLimit(2).build(),
                256,
                64,
                32,
                "Firecracker"))
        .isEqualTo(new GuestMachine(2, 256, 0));
    assertThatThrownBy(
            () ->
                GuestMachine.from(
                    SandboxPolicy.minimal().toBuilder().memoryLimitMb(16).build(),
                    256,
                    64,
                    32,
                    "Firecracker"))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("memory_limit_mb (16) must be at least 64");
    assertThatThrownBy(
            () ->
                GuestMachine.from(
                    SandboxPolicy.minimal().toBuilder().cpuLimit(40).build(),
                    256,
                    64,
                    32,
                    "Firecracker"))
        .hasMessageContaining("Firecracker allows 32");
  }

  @Test
  void jailerArgvUsesPathsInsideTheChrootAndAnUnprivilegedUid() {
    Jailer j =
        new Jailer(
            Path.of("/usr/bin/jailer"),
            Path.of("/usr/bin/firecracker"),
            "kv-0123456789ab",
            65534,
            65534,
            Path.of("/dev/shm/kavach-kv-0123456789ab/jail"),
            1,
            MACHINE);
    assertThat(j.root())
        .isEqualTo(
            Path.of("/dev/shm/kavach-kv-0123456789ab/jail/firecracker/kv-0123456789ab/root"));
    assertThat(j.hostPath("/v.sock")).isEqualTo(j.root().resolve("v.sock"));
    assertThat(j.argv("/config.json", "/api.sock"))
        .containsExactly(
            "/usr/bin/jailer",
            "--id",
            "kv-0123456789ab",
            "--exec-file",
            "/usr/bin/firecracker",
            "--uid",
            "65534",
            "--gid",
            "65534",
            "--chroot-base-dir",
            "/dev/shm/kavach-kv-0123456789ab/jail",
            "--cgroup-version",
            "1",
            "--parent-cgroup",
            "kavach",
            "--cgroup",
            "memory.limit_in_bytes=603979776",
            "--cgroup",
            "cpu.cfs_period_us=100000",
            "--cgroup",
            "cpu.cfs_quota_us=250000",
            "--",
            "--config-file",
            "/config.json",
            "--api-sock",
            "/api.sock",
            "--level",
            "Warning");
    Jailer v2 =
        new Jailer(j.jailer(), j.firecracker(), j.id(), 1000, 1000, j.chrootBase(), 2, MACHINE);
    List<String> a = v2.argv("/config.json", "/api.sock");
    assertThat(a).contains("memory.max=603979776", "cpu.max=250000 100000");
  }

  @Test
  void jailerRefusesRootAndOddIds() {
    assertThatThrownBy(
            () -> new Jailer(Path.of("j"), Path.of("f"), "kv-1", 0, 0, Path.of("/b"), 2, MACHINE))
        .hasMessageContaining("must not run as uid or gid 0");
    assertThatThrownBy(
            () -> new Jailer(Path.of("j"), Path.of("f"), "../etc", 1, 1, Path.of("/b"), 2, MACHINE))
        .hasMessageContaining("must be 1-64 of [A-Za-z0-9-]");
  }

  @Test
  void bootArgsCarryNoEnvironmentOrSecret() {
    // The command's environment travels in the agent's request; the command line has a fixed
    // vocabulary and nothing from the sandbox configuration.
    String args = new FirecrackerConfig("/k", "/r", "/w", "/v", MACHINE, 5005).bootArgs();
    for (String word : args.split(" ")) {
      assertThat(word)
          .matches(
              "console=ttyS0|reboot=k|panic=1|pci=off|quiet|loglevel=1|init=/sbin/kavach-agent"
                  + "|kavach\\.port=5005|kavach\\.workspace=/dev/vdb");
    }
  }
}
