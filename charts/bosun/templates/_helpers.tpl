{{/* The name of the namespaced objects: istiod, or istiod-<revision>. */}}
{{- define "bosun.name" -}}
istiod{{ if .Values.revision }}-{{ .Values.revision }}{{ end }}
{{- end }}

{{/* The mesh ConfigMap, named as istiod's: istio, or istio-<revision>. */}}
{{- define "bosun.meshConfigMap" -}}
istio{{ if .Values.revision }}-{{ .Values.revision }}{{ end }}
{{- end }}

{{/* The istio.io/rev label value. */}}
{{- define "bosun.revision" -}}
{{ .Values.revision | default "default" }}
{{- end }}

{{/* The suffix of cluster-scoped names: [-<revision>]-<release namespace>. */}}
{{- define "bosun.clusterSuffix" -}}
{{ if .Values.revision }}-{{ .Values.revision }}{{ end }}-{{ .Release.Namespace | default "istio-system" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "bosun.labels" -}}
app: istiod
istio.io/rev: {{ include "bosun.revision" . | quote }}
release: {{ .Release.Name }}
app.kubernetes.io/name: istiod
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: bosun
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* The pods' selector, as istiod's: istio=pilot for the default revision, else the revision. */}}
{{- define "bosun.selector" -}}
app: istiod
{{- if .Values.revision }}
istio.io/rev: {{ .Values.revision | quote }}
{{- else }}
istio: pilot
{{- end }}
{{- end }}

{{/* More than one replica: anti-affinity and a disruption budget make sense. */}}
{{- define "bosun.replicated" -}}
{{- if .Values.autoscale.enabled }}{{ gt (int .Values.autoscale.minReplicas) 1 }}{{ else }}{{ gt (int .Values.replicaCount) 1 }}{{ end }}
{{- end }}

{{/* One validation webhook: {"root": ., "webhook": name}. */}}
{{- define "bosun.validationWebhook" }}
  - name: {{ .webhook }}
    clientConfig:
      {{- if .root.Values.validation.url }}
      url: {{ .root.Values.validation.url }}
      {{- else }}
      service:
        name: {{ include "bosun.name" .root }}
        namespace: {{ .root.Release.Namespace }}
        path: /validate
      {{- end }}
    rules:
      - operations: ["CREATE", "UPDATE"]
        apiGroups: ["security.istio.io", "networking.istio.io", "telemetry.istio.io", "extensions.istio.io"]
        apiVersions: ["*"]
        resources: ["*"]
    # Ignore until Bosun's leader has seen the API server call the webhook and patched in the
    # caBundle; it then sets Fail, as istiod does. A value in validation.failurePolicy is kept.
    failurePolicy: {{ .root.Values.validation.failurePolicy | default "Ignore" }}
    sideEffects: None
    admissionReviewVersions: ["v1"]
{{- end }}

{{/* One sidecar injection webhook: {"root": ., "webhook": name}; istiod's core fields. */}}
{{- define "bosun.injectionWebhook" }}
  - name: {{ .webhook }}
    clientConfig:
      {{- if .root.Values.sidecarInjectorWebhook.url }}
      url: {{ .root.Values.sidecarInjectorWebhook.url }}
      {{- else }}
      service:
        name: {{ include "bosun.name" .root }}
        namespace: {{ .root.Release.Namespace }}
        path: /inject
        port: 443
      {{- end }}
    rules:
      - operations: ["CREATE"]
        apiGroups: [""]
        apiVersions: ["v1"]
        resources: ["pods"]
    # As istiod: Fail. Bosun itself admits a pod it cannot inject unchanged, with a warning.
    failurePolicy: Fail
    reinvocationPolicy: {{ .root.Values.sidecarInjectorWebhook.reinvocationPolicy }}
    sideEffects: None
    admissionReviewVersions: ["v1"]
{{- end }}
