/**
 * grpc-js server credentials that follow a TlsSource: grpc-js 1.14's certificate-provider
 * credentials call setSecureContext on its listener whenever the provider reports new
 * material. (Its FileWatcherCertificateProvider is not used: on a bad or half-written file
 * it withdraws the identity and the port drops every new connection; ours keeps the
 * previous material.)
 */
import { type ServerCredentials, experimental } from "@grpc/grpc-js";
import type { TlsSource } from "./tls-source.js";

type Provider = experimental.CertificateProvider;
type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

export function grpcServerCredentials(source: TlsSource): ServerCredentials {
  const identity = new Map<IdentityListener, () => void>();
  const cas = new Map<CaListener, () => void>();
  const provider: Provider = {
    addIdentityCertificateListener(listener) {
      const push = () => listener({ certificate: source.current().cert, privateKey: source.current().key });
      identity.set(listener, source.subscribe(push));
      process.nextTick(push);
    },
    removeIdentityCertificateListener(listener) {
      identity.get(listener)?.();
      identity.delete(listener);
    },
    addCaCertificateListener(listener) {
      const push = () => {
        const ca = source.current().ca;
        if (ca !== undefined) listener({ caCertificate: ca });
      };
      cas.set(listener, source.subscribe(push));
      process.nextTick(push);
    },
    removeCaCertificateListener(listener) {
      cas.get(listener)?.();
      cas.delete(listener);
    },
  };
  const mtls = source.current().ca !== undefined;
  // grpc-js 1.14 declares the parameters (ca, identity, require) but builds the credentials
  // as (identity, ca, require): the first argument is the identity provider, the second the
  // CA one (null: no client certificates asked for). Same object here, so only the null matters.
  return experimental.createCertificateProviderServerCredentials(provider, mtls ? provider : null, mtls);
}
