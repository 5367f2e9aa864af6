{{/* Rules shared by the cluster-wide and the namespaced RBAC (see rbac.yaml). */}}

{{/* Secrets: the managed ones (informer limited to lockstep.dev/managed=true) and Merge targets. */}}
{{- define "lockstep.rbac.secretsRule" -}}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, patch, delete]
{{- end }}

{{/* Namespaces are cluster-scoped: a ClusterSecretStore's namespace conditions match their labels. */}}
{{- define "lockstep.rbac.namespacesRule" -}}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
{{- end }}

{{/* Events the operator records about its objects. */}}
{{- define "lockstep.rbac.eventsRule" -}}
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create]
{{- end }}

{{/* Events, and rollouts on rotation: read workloads to find consumers, patch their pod template. */}}
{{- define "lockstep.rbac.workloadRules" -}}
{{ include "lockstep.rbac.eventsRule" . }}
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list, watch, patch]
- apiGroups: [argoproj.io]
  resources: [rollouts]
  verbs: [get, list, watch, patch]
{{- end }}

{{/* Only to learn whether Argo Rollouts is installed. */}}
{{- define "lockstep.rbac.crdRule" -}}
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  resourceNames: [rollouts.argoproj.io]
  verbs: [get]
{{- end }}

{{/* Workload identity for providers: tokens for the ServiceAccounts a store names. */}}
{{- define "lockstep.rbac.tokenRule" -}}
- apiGroups: [""]
  resources: [serviceaccounts/token]
  verbs: [create]
{{- end }}

{{/* Cluster-scoped reviews: a /metrics scraper's token (--metrics-auth), and the apiserver's token audiences. */}}
{{- define "lockstep.rbac.reviewRules" -}}
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
- nonResourceURLs: [/.well-known/openid-configuration]
  verbs: [get]
{{- end }}

{{/* In default: the kubernetes Service's EndpointSlice, which lists every API server of the control plane. */}}
{{- define "lockstep.rbac.apiserverMembersRule" -}}
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  resourceNames: [kubernetes]
  verbs: [get]
{{- end }}

{{/* Who gets the roles: the operator's ServiceAccount. */}}
{{- define "lockstep.rbac.subject" -}}
- kind: ServiceAccount
  name: {{ include "lockstep.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}
