/**
 * Loads the Kubernetes client configuration for `lbkitd --kubeconfig` / `--in-cluster`, checking
 * up front what client-node would otherwise only discover on the first request (and then retry
 * forever): a missing file, a kubeconfig without a usable context, in-cluster mode outside a pod.
 */
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** A configuration problem that stops lbkitd at startup with one clear line (no stack trace). */
export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeConfigError';
  }
}

/** Service-account token path mounted into every pod that has a service account. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Builds a KubeConfig from `kubeconfig` (a file) or, when undefined, from the pod's service
 * account. Throws {@link KubeConfigError} naming the missing piece.
 * @param env process environment (`KUBERNETES_SERVICE_HOST`/`_PORT` for in-cluster mode)
 * @param exists file existence check (tests)
 */
export function loadKubeConfig(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig === undefined) {
    const missing = ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'].filter((k) => !env[k]);
    if (missing.length) throw new KubeConfigError(`--in-cluster: not running in a Kubernetes pod ($${missing.join(' and $')} not set); use --kubeconfig PATH or --config FILE outside a cluster`);
    if (!exists(SERVICE_ACCOUNT_TOKEN)) throw new KubeConfigError(`--in-cluster: no service-account token at ${SERVICE_ACCOUNT_TOKEN} (is automountServiceAccountToken disabled?)`);
    kc.loadFromCluster();
    return kc;
  }
  if (!exists(kubeconfig)) throw new KubeConfigError(`--kubeconfig: ${kubeconfig}: no such file`);
  try {
    kc.loadFromFile(kubeconfig);
  } catch (e) {
    throw new KubeConfigError(`--kubeconfig: ${kubeconfig}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) throw new KubeConfigError(`--kubeconfig: ${kubeconfig}: no current-context`);
  if (!cluster) throw new KubeConfigError(`--kubeconfig: ${kubeconfig}: context ${JSON.stringify(kc.getCurrentContext())} names no known cluster`);
  try {
    new URL(cluster.server);
  } catch {
    throw new KubeConfigError(`--kubeconfig: ${kubeconfig}: cluster ${JSON.stringify(cluster.name)}: invalid server URL ${JSON.stringify(cluster.server)}`);
  }
  return kc;
}
