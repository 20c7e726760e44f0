{{/* The scheduler's name: the release name, suffixed unless it says dxbackup. */}}
{{- define "dxbackup.fullname" -}}
{{- if contains "dxbackup" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-dxbackup" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dxbackup.selectorLabels" -}}
app.kubernetes.io/name: dxbackup
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: scheduler
{{- end -}}

{{- define "dxbackup.labels" -}}
{{ include "dxbackup.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "dxbackup.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dxbackup.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where agents dial the scheduler (its Service, by cluster DNS). */}}
{{- define "dxbackup.address" -}}
{{- printf "%s.%s.svc:%d" (include "dxbackup.fullname" .) .Release.Namespace (int .Values.scheduler.port) -}}
{{- end -}}

{{/* The Secret agents of a DX namespace mount: token and CA. */}}
{{- define "dxbackup.agentSecretName" -}}
{{- printf "dxbackup-agent-%s" . | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The mount path of a database password Secret in the scheduler. */}}
{{- define "dxbackup.dbSecretPath" -}}
{{- printf "/etc/dxbackup/db/%s" .name -}}
{{- end -}}

{{/* The service account a DX release's core pods run as (list root deployment). */}}
{{- define "dxbackup.coreServiceAccount" -}}
{{- $root := index . 0 -}}{{- $d := index . 1 -}}
{{- replace "{release}" $d.release $root.Values.quiesce.coreServiceAccount -}}
{{- end -}}
