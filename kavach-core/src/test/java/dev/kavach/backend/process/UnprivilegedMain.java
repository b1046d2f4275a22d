package dev.kavach.backend.process;

import dev.kavach.ExecResult;
import dev.kavach.KavachException;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.policy.SandboxPolicy;
import java.util.List;

/**
 * Run by {@link ProcessUnprivilegedTest} as a freshly created non-root user: opens a sandbox with
 * the policy named by the first argument and prints what happened, one {@code key=value} per line.
 */
public final class UnprivilegedMain {
  private UnprivilegedMain() {}

  /**
   * Runs one sandbox with preset {@code args[0]} (plus a 64 MiB limit if {@code args[1]} is
   * "limit").
   */
  public static void main(String[] args) throws Exception {
    if (args[0].equals("egress")) {
      egress();
      return;
    }
    SandboxPolicy policy = SandboxPolicy.preset(args[0]);
    if (args.length > 1 && args[1].startsWith("limit")) {
      policy =
          policy.toBuilder()
              .memoryLimitMb(64)
              .bestEffort(args[1].equals("limit-best-effort"))
              .build();
    }
    try (Sandbox s = Sandbox.create(SandboxConfig.builder().policy(policy).build())) {
      s.start();
      ExecResult r =
          s.exec(
              List.of(
                  "/bin/sh",
                  "-c",
                  "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status;"
                      + " touch /workspace/made && echo workspace-ok; touch /usr/x 2>&1;"
                      + " cat /proc/self/uid_map"));
      System.out.println("exit=" + r.exitCode());
      System.out.println("namespaces=" + r.enforcement().sortedNamespaces());
      System.out.println("landlock=" + r.enforcement().landlockAbi());
      System.out.println("seccomp=" + r.enforcement().seccompProfile());
      System.out.println("uid=" + r.enforcement().uid());
      System.out.println("notes=" + r.enforcement().notes());
      System.out.println("memory=" + r.enforcement().memoryLimitBytes());
      System.out.println("score=" + r.score().value() + " declared=" + s.declaredScore().value());
      System.out.print(r.stdoutText());
    } catch (KavachException e) {
      System.out.println("failed=" + e.reason() + ": " + e.getMessage());
    }
  }

  /**
   * The egress proxy and relay without root: a sandbox allowed to reach only an origin on this
   * JVM's loopback (an explicit IP entry) fetches from it through the proxy and is refused another
   * port.
   */
  private static void egress() throws Exception {
    com.sun.net.httpserver.HttpServer origin =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    origin.createContext(
        "/",
        ex -> {
          byte[] body = "origin-ok".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    origin.start();
    int port = origin.getAddress().getPort();
    SandboxPolicy policy =
        SandboxPolicy.minimal().toBuilder()
            .network(
                new dev.kavach.policy.NetworkPolicy(
                    true, List.of("127.0.0.1:" + port), List.of(), List.of()))
            .build();
    try (Sandbox s = Sandbox.create(SandboxConfig.builder().policy(policy).build())) {
      s.start();
      // NO_PROXY lists 127.0.0.1, so curl is told to use the proxy for it.
      ExecResult r =
          s.exec(
              List.of(
                  "/bin/sh",
                  "-c",
                  "curl -sS --noproxy '' -x \"$HTTP_PROXY\" http://127.0.0.1:"
                      + port
                      + "/; echo;"
                      + " curl -sS --noproxy '' -x \"$HTTP_PROXY\" http://127.0.0.1:1/"));
      System.out.println("exit=" + r.exitCode());
      System.out.println("isolated=" + r.enforcement().networkIsolated());
      System.out.println("uid=" + r.enforcement().uid());
      System.out.print(r.stdoutText());
    } catch (KavachException e) {
      System.out.println("failed=" + e.reason() + ": " + e.getMessage());
    } finally {
      origin.stop(0);
    }
  }
}
