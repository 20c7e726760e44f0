{{- /*
The chart's certificates, made in one place (README "Certificates").

- A CA of the chart's own, in Secret <fullname>-ca (ca.crt, ca.key), mounted
  nowhere but the scheduler's client CA (ca.crt only): made at install, kept
  for tls.caDays, never renewed by the chart.
- The scheduler's server certificate, in <fullname>-tls (unless
  tls.existingSecret), signed by that CA.
- A client certificate per DX deployment's agents and for the CLI, in their
  Secrets, signed by that CA.

Each Secret holding a certificate carries its expiry as the annotation
dxbackup.io/not-after (RFC 3339, UTC): sprig cannot parse a certificate, so
the chart compares that with `now` at every render. A certificate is kept
across upgrades until it is within its renewal window (tls.renewBeforeDays
for the server, tls.clientRenewBeforeDays for clients) or its CA was made
anew; then the render makes a new one. A `helm upgrade` is what renews.

`helm template` has no cluster, so `lookup` finds nothing there: the chart's
tests hand the Secrets a cluster would hold to testing.existingSecrets.
*/ -}}

{{- define "dxbackup.timeFormat" -}}2006-01-02T15:04:05Z07:00{{- end -}}

{{/* An existing Secret (list root namespace name), as JSON; "{}" if none. */}}
{{- define "dxbackup.existingSecret" -}}
{{- $root := index . 0 -}}{{- $ns := index . 1 -}}{{- $name := index . 2 -}}
{{- $found := lookup "v1" "Secret" $ns $name -}}
{{- if not $found -}}
{{- $testing := default dict (default dict $root.Values.testing).existingSecrets -}}
{{- $found = default dict (index $testing (printf "%s/%s" $ns $name)) -}}
{{- end -}}
{{- toJson $found -}}
{{- end -}}

{{/* The expiry a certificate made now for (days) will have, RFC 3339. */}}
{{- define "dxbackup.notAfterIn" -}}
{{- dateInZone (include "dxbackup.timeFormat" .) (now | dateModify (printf "+%dh" (mul (int .) 24))) "UTC" -}}
{{- end -}}

{{/* "true" if (list notAfter days) is less than days from now, or unreadable. */}}
{{- define "dxbackup.renewDue" -}}
{{- $notAfter := index . 0 -}}{{- $days := int (index . 1) -}}
{{- $at := toDate (include "dxbackup.timeFormat" .) (toString $notAfter) | unixEpoch | atoi -}}
{{- $left := sub $at (now | unixEpoch | atoi) -}}
{{- if lt (int64 $left) (int64 (mul $days 86400)) -}}true{{- end -}}
{{- end -}}

{{/*
The CA and the server certificate, made once per render and kept on
.Values (every template and NOTES see the same ones). Sets
.Values.__dxbackupPki to {ca, caCrt, caKey, caNotAfter, caNew, serverCrt,
serverKey, serverNotAfter, serverCaCrt, tlsChecksum}.
*/}}
{{- define "dxbackup.pki" -}}
{{- if not (hasKey .Values "__dxbackupPki") -}}
{{- $full := include "dxbackup.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $tls := .Values.tls -}}
{{- $pki := dict -}}
{{- $old := include "dxbackup.existingSecret" (list . $ns (printf "%s-ca" $full)) | fromJson -}}
{{- $oldData := default dict $old.data -}}
{{- if and (hasKey $oldData "ca.crt") (hasKey $oldData "ca.key") -}}
  {{- $_ := set $pki "caCrt" (index $oldData "ca.crt" | b64dec) -}}
  {{- $_ := set $pki "caKey" (index $oldData "ca.key" | b64dec) -}}
  {{- $_ := set $pki "caNotAfter" (index (default dict (default dict $old.metadata).annotations) "dxbackup.io/not-after" | default "") -}}
  {{- $_ := set $pki "caNew" false -}}
{{- else -}}
  {{- $ca := genCA (printf "%s CA" $full) (int $tls.caDays) -}}
  {{- $_ := set $pki "caCrt" $ca.Cert -}}
  {{- $_ := set $pki "caKey" $ca.Key -}}
  {{- $_ := set $pki "caNotAfter" (include "dxbackup.notAfterIn" $tls.caDays) -}}
  {{- $_ := set $pki "caNew" true -}}
{{- end -}}
{{- $_ := set $pki "ca" (buildCustomCert ($pki.caCrt | b64enc) ($pki.caKey | b64enc)) -}}
{{- if $tls.existingSecret -}}
  {{- $user := include "dxbackup.existingSecret" (list . $ns $tls.existingSecret) | fromJson -}}
  {{- $userData := default dict $user.data -}}
  {{- $_ := set $pki "serverCaCrt" (index $userData "ca.crt" | default "" | b64dec) -}}
  {{- $_ := set $pki "serverCrt" (index $userData "tls.crt" | default "" | b64dec) -}}
{{- else -}}
  {{- $old := include "dxbackup.existingSecret" (list . $ns (printf "%s-tls" $full)) | fromJson -}}
  {{- $oldData := default dict $old.data -}}
  {{- $notAfter := index (default dict (default dict $old.metadata).annotations) "dxbackup.io/not-after" | default "" -}}
  {{- if and (not $pki.caNew) (hasKey $oldData "tls.crt") (hasKey $oldData "tls.key") (not (include "dxbackup.renewDue" (list $notAfter $tls.renewBeforeDays))) -}}
    {{- $_ := set $pki "serverCrt" (index $oldData "tls.crt" | b64dec) -}}
    {{- $_ := set $pki "serverKey" (index $oldData "tls.key" | b64dec) -}}
    {{- $_ := set $pki "serverNotAfter" $notAfter -}}
  {{- else -}}
    {{- $dns := list $full (printf "%s.%s" $full $ns) (printf "%s.%s.svc" $full $ns) (printf "%s.%s.svc.cluster.local" $full $ns) -}}
    {{- $dns = concat $dns (default list $tls.extraDnsNames) | uniq -}}
    {{- $_ := set $pki "serverNotAfter" (include "dxbackup.notAfterIn" $tls.serverCertDays) -}}
    {{- $cert := genSignedCert $full nil $dns (int $tls.serverCertDays) $pki.ca -}}
    {{- $_ := set $pki "serverCrt" $cert.Cert -}}
    {{- $_ := set $pki "serverKey" $cert.Key -}}
  {{- end -}}
  {{- $_ := set $pki "serverCaCrt" $pki.caCrt -}}
{{- end -}}
{{- /* What the scheduler loads at start: a change restarts it. */ -}}
{{- $_ := set $pki "tlsChecksum" (printf "%s\n%s\n%v" $pki.serverCrt $pki.caCrt $tls.requireClientCerts | sha256sum) -}}
{{- $_ := set .Values "__dxbackupPki" $pki -}}
{{- end -}}
{{- end -}}

{{/*
A client certificate (list root existingSecret commonName), as JSON {crt,
key, notAfter}: the one in the existing Secret's tls.crt/tls.key while it is
outside tls.clientRenewBeforeDays and its CA was kept, else a new one.
*/}}
{{- define "dxbackup.clientCert" -}}
{{- $root := index . 0 -}}{{- $old := index . 1 -}}{{- $cn := index . 2 -}}
{{- include "dxbackup.pki" $root -}}
{{- $pki := index $root.Values "__dxbackupPki" -}}
{{- $tls := $root.Values.tls -}}
{{- $oldData := default dict $old.data -}}
{{- $notAfter := index (default dict (default dict $old.metadata).annotations) "dxbackup.io/not-after" | default "" -}}
{{- if and (not $pki.caNew) (hasKey $oldData "tls.crt") (hasKey $oldData "tls.key") (not (include "dxbackup.renewDue" (list $notAfter $tls.clientRenewBeforeDays))) -}}
{{- toJson (dict "crt" (index $oldData "tls.crt" | b64dec) "key" (index $oldData "tls.key" | b64dec) "notAfter" $notAfter) -}}
{{- else -}}
{{- $cert := genSignedCert $cn nil nil (int $tls.clientCertDays) $pki.ca -}}
{{- toJson (dict "crt" $cert.Cert "key" $cert.Key "notAfter" (include "dxbackup.notAfterIn" $tls.clientCertDays)) -}}
{{- end -}}
{{- end -}}
