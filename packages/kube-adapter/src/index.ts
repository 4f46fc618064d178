/**
 * @packageDocumentation
 * `@lbkit/kube-adapter`: MetalLB-compatible controller (IP assignment) and speaker (L2 election,
 * BGP decisions) over Kubernetes or YAML objects, plus the `lbkitd` daemon's building blocks.
 */
export * from './types.js';
export * from './errors.js';
export * from './ip.js';
export * from './labels.js';
export * from './duration.js';
export * from './config.js';
export * from './service.js';
export * from './endpoints.js';
export * from './allocator.js';
export * from './events.js';
export * from './controller.js';
export * from './election.js';
export * from './bgp-decision.js';
export * from './speaker.js';
export * from './startup-hold.js';
export * from './metrics.js';
export * from './log.js';
export * from './daemon.js';
export * from './source/source.js';
export { YamlFileSource, parseYamlObjects, YamlSourceError, type YamlSourceOptions } from './source/yaml.js';
export { KubeSource, type KubeSourceOptions } from './source/kube.js';
export { ConfigStateWriter, configStateName, configStateLabels, configStateStatus, type ConfigStateComponent, type ConfigStateStatus, type ConfigStateWriterOptions } from './source/config-state.js';
export { sessionASNs, unsupportedPeerFields, type SessionASNs, type UnsupportedField } from './config/peer-support.js';
export { WorkQueue, runQueue, type WorkQueueOptions, type RunQueueOptions } from './queue/workqueue.js';
export { ControllerLoop, type ControllerLoopOptions } from './controller/loop.js';
export { Reflector, type ReflectorOptions } from './informer/reflector.js';
export { adsHaveCompatibleLocalPref, aggregationLengthsDiffer, type LocalPrefAd } from './config/localpref.js';
export { CrdSchemas, crdSchemas, CRDS_PATH } from './validation/crd-schema.js';
export { checkConfigFile, checkConfigText, formatCheck, type CheckResult } from './validation/check.js';
export { reviewAdmission, BadReviewError, WEBHOOK_KINDS, type AdmissionContext, type AdmissionResponse, type AdmissionReviewReply } from './webhook/admission.js';
export { WebhookServer, WEBHOOK_PATHS, type WebhookServerOptions } from './webhook/server.js';
export { availableBackends, createAllocator, createBgpAnnouncer, createL2Announcer, createMembership, type L2Backend, type MembershipBackend, type BgpBackend } from './adapters/index.js';
export { KernelL2Announcer, eligibleInterfaces, type KernelL2Options } from './adapters/kernel-l2.js';
export { IpamAllocator } from './adapters/ipam-allocator.js';
export { SerfMembership, metallbMemberlistKey, type SerfOptions } from './adapters/serf-membership.js';
export { GobgpBgpAnnouncer, type GobgpOptions } from './adapters/gobgp-bgp.js';
export { LbkitMembership, parseHostPort, type LbkitMembershipOptions, type MembershipTimings } from './adapters/lbkit-membership.js';
// The lbkit L2 backend (LbkitL2Announcer, L2Interface) is exported from `@lbkit/kube-adapter/l2`: it needs the
// optional Linux-only packages @lbkit/arp, @lbkit/ndp and @lbkit/afpacket, which the rest of this package does not.
