/**
 * kavach: run untrusted commands under enforced, verified isolation.
 *
 * <p>Start at {@link dev.kavach.Sandbox}. Backends plug in through {@link
 * dev.kavach.backend.BackendProvider}.
 */
module dev.kavach.core {
  requires com.fasterxml.jackson.databind;
  requires static transitive org.jspecify;

  exports dev.kavach;
  exports dev.kavach.audit;
  exports dev.kavach.backend;
  exports dev.kavach.credential;
  exports dev.kavach.egress;
  exports dev.kavach.policy;
  exports dev.kavach.scanning;
  exports dev.kavach.scoring;
  // Host facts and the process wrapper are shared with kavach's own modules only.
  exports dev.kavach.internal.exec to
      dev.kavach.cli;
  exports dev.kavach.internal.host to
      dev.kavach.cli;
  exports dev.kavach.internal.fs to
      dev.kavach.cli;
  exports dev.kavach.backend.process to
      dev.kavach.cli;

  uses dev.kavach.backend.BackendProvider;

  provides dev.kavach.backend.BackendProvider with
      dev.kavach.backend.noop.NoopBackendProvider,
      dev.kavach.backend.process.ProcessBackendProvider,
      dev.kavach.backend.microvm.MicrovmBackendProvider,
      dev.kavach.backend.tee.SgxBackendProvider,
      dev.kavach.backend.tee.SevBackendProvider,
      dev.kavach.backend.tee.TdxBackendProvider,
      dev.kavach.backend.oci.OciBackendProvider,
      dev.kavach.backend.oci.OciCrunBackendProvider,
      dev.kavach.backend.oci.OciRuncBackendProvider,
      dev.kavach.backend.gvisor.GvisorBackendProvider,
      dev.kavach.backend.syagnos.SyAgnosBackendProvider;
}
