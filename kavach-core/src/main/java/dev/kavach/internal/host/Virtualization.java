package dev.kavach.internal.host;

import java.util.List;

/**
 * What hardware virtualization this host offers.
 *
 * @param kvmDevice whether {@code /dev/kvm} exists
 * @param cpuFlags which of {@code vmx} and {@code svm} the CPU advertises
 * @param kvmModules loaded KVM modules ({@code kvm_intel}, {@code kvm_amd}, {@code kvm_pvm})
 */
public record Virtualization(boolean kvmDevice, List<String> cpuFlags, List<String> kvmModules) {

  /** Copies the lists. */
  public Virtualization {
    cpuFlags = List.copyOf(cpuFlags);
    kvmModules = List.copyOf(kvmModules);
  }

  /**
   * Whether {@code /dev/kvm} is backed by hardware virtualization, so stock guest kernels boot at
   * speed. A PVM device ({@code kvm_pvm}) without VT-x/SVM is not.
   */
  public boolean hardwareKvm() {
    return kvmDevice
        && !cpuFlags.isEmpty()
        && (kvmModules.contains("kvm_intel") || kvmModules.contains("kvm_amd"));
  }

  /** One line explaining {@link #hardwareKvm()}. */
  public String explain() {
    if (!kvmDevice) {
      return "no /dev/kvm";
    }
    if (hardwareKvm()) {
      return "/dev/kvm backed by "
          + String.join("+", kvmModules)
          + " ("
          + String.join(",", cpuFlags)
          + ")";
    }
    if (kvmModules.contains("kvm_pvm")) {
      return "/dev/kvm is the paravirtual PVM device (kvm_pvm) and the CPU has no vmx/svm:"
          + " stock guest kernels do not boot";
    }
    return "/dev/kvm exists but the CPU advertises no vmx/svm (modules: " + kvmModules + ")";
  }

  /** The virtualization flags ({@code vmx}, {@code svm}) in the text of {@code /proc/cpuinfo}. */
  public static List<String> parseCpuFlags(String cpuinfo) {
    boolean vmx = false;
    boolean svm = false;
    for (String line : cpuinfo.split("\n")) {
      if (line.startsWith("flags")) {
        for (String flag : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
          vmx |= flag.equals("vmx");
          svm |= flag.equals("svm");
        }
      }
    }
    if (vmx && svm) {
      return List.of("svm", "vmx");
    }
    return vmx ? List.of("vmx") : svm ? List.of("svm") : List.of();
  }
}
