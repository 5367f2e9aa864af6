{{/*
Names. The fullname is the release name when it already contains the chart name ("lockstep"),
so `helm install lockstep` names things lockstep-controller, like config/ does.
*/}}
{{- define "lockstep.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lockstep.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Deployment, Service, Lease and RBAC objects: <fullname>-controller (at most 63 characters). */}}
{{- define "lockstep.controllerName" -}}
{{- printf "%s-controller" (include "lockstep.fullname" .) }}
{{- end }}

{{- define "lockstep.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "lockstep.labels" -}}
helm.sh/chart: {{ include "lockstep.chart" . }}
app.kubernetes.io/name: {{ include "lockstep.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lockstep
{{- end }}

{{/* Labels of the controller's objects; the selector labels are a stable subset. */}}
{{- define "lockstep.controllerLabels" -}}
{{ include "lockstep.labels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "lockstep.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lockstep.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "lockstep.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lockstep.controllerName" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: a digest, when set, wins over the tag. */}}
{{- define "lockstep.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Lease the replicas elect a leader through. */}}
{{- define "lockstep.leaseName" -}}
{{- include "lockstep.controllerName" . }}
{{- end }}

{{/* The Secret holding the data-hash HMAC key, in the release namespace (the operator's default). */}}
{{- define "lockstep.hashKeySecret" -}}
{{- .Values.controller.hashKeySecret }}
{{- end }}

{{/*
The PromQL label selector of this release's series: what the ServiceMonitor's scrape labels them
with (job = the metrics Service, namespace = the release namespace), unless metrics.prometheusRule.selector is set.
*/}}
{{- define "lockstep.metricsSelector" -}}
{{- if .Values.metrics.prometheusRule.selector }}
{{- .Values.metrics.prometheusRule.selector }}
{{- else }}
{{- printf "job=%q,namespace=%q" (printf "%s-metrics" (include "lockstep.controllerName" .)) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* The Service in front of the webhook and the agents' API. */}}
{{- define "lockstep.webhookService" -}}
{{ include "lockstep.controllerName" . }}-webhook
{{- end }}

{{/* The names the serving certificate is for. */}}
{{- define "lockstep.webhookHosts" -}}
{{- $svc := include "lockstep.webhookService" . -}}
{{ $svc }}.{{ .Release.Namespace }}.svc,{{ $svc }}.{{ .Release.Namespace }}.svc.cluster.local
{{- end }}
