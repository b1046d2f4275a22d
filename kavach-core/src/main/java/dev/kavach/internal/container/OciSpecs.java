package dev.kavach.internal.container;

import java.util.List;

/**
 * The JSON documents an OCI runtime takes: a bundle's {@code config.json} and exec process specs.
 */
public interface OciSpecs {

  /** The {@code config.json} of the container described by the plan. */
  String config(ContainerPlan plan, ContainerLayout layout);

  /**
   * A process spec for {@code exec --process}: the plan's uid, no capabilities, no_new_privs, the
   * plan's rlimits, working directory {@code /workspace}.
   */
  String process(ContainerPlan plan, List<String> args, List<String> env);
}
