/**
 * cgroups of the process backend: one group per sandbox with its limits ({@link
 * dev.kavach.backend.process.cgroup.SandboxCgroup}), one child group per exec for usage, OOM
 * reporting and killing ({@link dev.kavach.backend.process.cgroup.ExecCgroup}). Works on cgroup v1,
 * v2 and hybrid hosts; the choices are made by a pure plan from the host's layout.
 */
@NullMarked
package dev.kavach.backend.process.cgroup;

import org.jspecify.annotations.NullMarked;
