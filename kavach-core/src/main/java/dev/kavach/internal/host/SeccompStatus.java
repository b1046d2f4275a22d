package dev.kavach.internal.host;

/**
 * The seccomp mode of a process, from the {@code Seccomp:} line of {@code /proc/<pid>/status}.
 *
 * @param mode {@code disabled}, {@code strict}, {@code filter}, {@code unknown} or {@code
 *     unsupported} (no such line: kernel built without seccomp)
 * @param noNewPrivs whether {@code NoNewPrivs: 1}
 */
public record SeccompStatus(String mode, boolean noNewPrivs) {

  /** Whether the kernel supports seccomp filters. */
  public boolean available() {
    return !mode.equals("unsupported");
  }

  /** Parses the text of {@code /proc/self/status}. */
  public static SeccompStatus parse(String procStatus) {
    String mode = "unsupported";
    boolean nnp = false;
    for (String line : procStatus.split("\n")) {
      if (line.startsWith("Seccomp:")) {
        mode =
            switch (line.substring("Seccomp:".length()).trim()) {
              case "0" -> "disabled";
              case "1" -> "strict";
              case "2" -> "filter";
              default -> "unknown";
            };
      } else if (line.startsWith("NoNewPrivs:")) {
        nnp = line.substring("NoNewPrivs:".length()).trim().equals("1");
      }
    }
    return new SeccompStatus(mode, nnp);
  }
}
