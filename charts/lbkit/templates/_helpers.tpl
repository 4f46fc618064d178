{{- define "lbkit.name" -}}{{ .Release.Name }}{{- end -}}

{{- define "lbkit.labels" -}}
app.kubernetes.io/name: lbkit
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: lbkit-{{ .Chart.Version }}
{{- end -}}

{{- define "lbkit.image" -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}{{- end -}}

{{- define "lbkit.controllerSA" -}}{{ default (printf "%s-controller" .Release.Name) .Values.serviceAccounts.controller.name }}{{- end -}}

{{- define "lbkit.speakerSA" -}}{{ default (printf "%s-speaker" .Release.Name) .Values.serviceAccounts.speaker.name }}{{- end -}}

{{- define "lbkit.memberlistSecret" -}}{{ default (printf "%s-memberlist" .Release.Name) .Values.speaker.memberlist.existingSecret }}{{- end -}}

{{- define "lbkit.webhookCertSecret" -}}
{{- if .Values.webhook.certManager.enabled -}}
{{ default (printf "%s-webhook-cert" .Release.Name) .Values.webhook.certSecret }}
{{- else -}}
{{ required "webhook.certSecret is required when webhook.enabled (or set webhook.certManager.enabled)" .Values.webhook.certSecret }}
{{- end -}}
{{- end -}}

{{- define "lbkit.commonEnv" -}}
- name: METALLB_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: METALLB_POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: METALLB_POD_UID
  valueFrom: { fieldRef: { fieldPath: metadata.uid } }
{{- end -}}

{{- define "lbkit.probes" -}}
livenessProbe:
  httpGet: { path: /healthz, port: metrics }
  initialDelaySeconds: {{ .Values.probes.liveness.initialDelaySeconds }}
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
readinessProbe:
  httpGet: { path: /readyz, port: metrics }
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
{{- end -}}
