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

{{/*
The NetworkPolicy egress rule to a database of the fleet (list root
deployment database), as YAML; empty for a socket directory. The database's
own `egress` wins; else the rule follows its host: an IP address is an
ipBlock of that address, a Service name (`name`, `name.ns.svc`,
`name.ns.svc.cluster.local`, `pod.name.ns.svc…`) that namespace, on the
database's port. Any other name cannot be told apart from an address
outside the cluster, and is an error.
*/}}
{{- define "dxbackup.databaseEgress" -}}
{{- $root := index . 0 -}}{{- $d := index . 1 -}}{{- $db := index . 2 -}}
{{- $port := dict "port" (int (default 5432 $db.port)) "protocol" "TCP" -}}
{{- $host := toString $db.host -}}
{{- $command := or $db.command $db.external -}}
{{- if $db.egress -}}
{{- toYaml $db.egress -}}
{{- else if and $command (get $command "component") -}}
{{- /* run in an agent's pod: the scheduler dials nothing for it */ -}}
{{- else if $command -}}
{{- fail (printf "fleet.deployments %s/%s: database %s runs its commands in the scheduler, and the NetworkPolicy cannot tell what they reach: give it an egress rule (databases[].egress: {to: [...], ports: [...]}), run them in a pod (command.component), or set networkPolicy.egress.enabled=false" $d.namespace $d.release (toString $db.name)) -}}
{{- else if hasPrefix "/" $host -}}
{{- else if regexMatch "^[0-9]+(\\.[0-9]+){3}$" $host -}}
{{- toYaml (dict "to" (list (dict "ipBlock" (dict "cidr" (printf "%s/32" $host)))) "ports" (list $port)) -}}
{{- else if contains ":" $host -}}
{{- toYaml (dict "to" (list (dict "ipBlock" (dict "cidr" (printf "%s/128" $host)))) "ports" (list $port)) -}}
{{- else -}}
{{- $labels := splitList "." $host -}}
{{- $ns := "" -}}
{{- if eq (len $labels) 1 -}}
{{- $ns = $root.Release.Namespace -}}
{{- else -}}
{{- range $i, $label := $labels -}}
{{- if and (eq $label "svc") (ge $i 2) (not $ns) -}}{{- $ns = index $labels (sub $i 1) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $ns -}}
{{- fail (printf "fleet.deployments %s/%s: the NetworkPolicy cannot tell where database host %q is (not an IP address, nor a Service name such as name.namespace.svc): give the database an egress rule (databases[].egress: {to: [{ipBlock: {cidr: ...}}], ports: [{port: 5432, protocol: TCP}]}), or set networkPolicy.egress.enabled=false" $d.namespace $d.release $host) -}}
{{- end -}}
{{- toYaml (dict "to" (list (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" $ns)))) "ports" (list $port)) -}}
{{- end -}}
{{- end -}}

{{/* The config's s3 bucket settings for a bucket value ($bucket: its values,
with defaults from store.s3's; $dir: where its Secrets are mounted). */}}
{{- define "dxbackup.s3Bucket" -}}
{{- $b := index . 0 -}}{{- $dir := index . 1 -}}{{- $what := index . 2 -}}
{{- if not (and $b.endpoint $b.bucket $b.credentialsSecret $b.credentialsSecret.name) -}}
{{- fail (printf "%s needs endpoint, bucket and credentialsSecret.name (an existing Secret with the keys)" $what) -}}
{{- end -}}
endpoint: {{ $b.endpoint | quote }}
bucket: {{ $b.bucket | quote }}
prefix: {{ default "" $b.prefix | quote }}
region: {{ default "us-east-1" $b.region | quote }}
path_style: {{ if hasKey $b "pathStyle" }}{{ $b.pathStyle }}{{ else }}true{{ end }}
part_size_mib: {{ int (default 8 $b.partSizeMib) }}
access_key_file: {{ printf "%s/credentials/%s" $dir (default "access-key" $b.credentialsSecret.accessKeyKey) | quote }}
secret_key_file: {{ printf "%s/credentials/%s" $dir (default "secret-key" $b.credentialsSecret.secretKeyKey) | quote }}
{{- if and $b.caSecret $b.caSecret.name }}
ca_file: {{ printf "%s/ca/%s" $dir (default "ca.crt" $b.caSecret.key) | quote }}
{{- end }}
{{- if and $b.objectLock $b.objectLock.mode }}
object_lock: {mode: {{ $b.objectLock.mode | quote }}, margin: {{ default "7d" $b.objectLock.margin | quote }}}
{{- end }}
{{- end -}}
