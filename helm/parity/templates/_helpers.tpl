{{/* Name of one of this chart's objects: "<namePrefix>-<suffix>". */}}
{{- define "parity.name" -}}
{{- printf "%s-%s" .root.Values.namePrefix .suffix | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object of this chart. */}}
{{- define "parity.labels" -}}
app.kubernetes.io/name: parity
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The bundle image, read from the Airflow chart's values so that it is written once. */}}
{{- define "parity.image" -}}
{{- $images := .Values.airflow.images | default dict -}}
{{- $own := $images.airflow | default dict -}}
{{- $repository := $own.repository | default .Values.airflow.defaultAirflowRepository -}}
{{- $tag := $own.tag | default .Values.airflow.defaultAirflowTag -}}
{{- if not (and $repository $tag) -}}
{{- fail "set airflow.defaultAirflowRepository and airflow.defaultAirflowTag to the bundle image" -}}
{{- end -}}
{{- printf "%s:%s" $repository (toString $tag) -}}
{{- end -}}

{{- define "parity.imagePullPolicy" -}}
{{- $images := .Values.airflow.images | default dict -}}
{{- $own := $images.airflow | default dict -}}
{{- $own.pullPolicy | default "IfNotPresent" -}}
{{- end -}}

{{/* The MLflow tracking URI: the one given, else the server deployed here, else empty. */}}
{{- define "parity.mlflowTrackingUri" -}}
{{- if .Values.mlflow.trackingUri -}}
{{- .Values.mlflow.trackingUri -}}
{{- else if .Values.mlflow.enabled -}}
{{- printf "http://%s.%s.svc:%d" (include "parity.name" (dict "root" . "suffix" "mlflow")) .Release.Namespace (int .Values.mlflow.service.port) -}}
{{- end -}}
{{- end -}}

{{/* sha256 of every contract file, in name order: changes whenever any contract does. */}}
{{- define "parity.contractsChecksum" -}}
{{- $sums := list -}}
{{- range $path, $_ := .Files.Glob "contracts/*.yaml" -}}
{{- $sums = append $sums (printf "%s=%s" (base $path) ($.Files.Get $path | sha256sum)) -}}
{{- end -}}
{{- $sums | sortAlpha | join "," | sha256sum -}}
{{- end -}}

{{/* Settings that would only fail at run time fail the install instead. */}}
{{- define "parity.validate" -}}
{{- if not (.Files.Glob "contracts/*.yaml") -}}
{{- fail "no contracts/*.yaml in the chart: helm/parity/contracts must point at the bundle's contracts/" -}}
{{- end -}}
{{- if .Values.airflow.enabled -}}
{{- $data := .Values.airflow.data | default dict -}}
{{- if not $data.metadataSecretName -}}
{{- fail "airflow.data.metadataSecretName: name the existing Secret holding the metadata database connection (no credentials in values)" -}}
{{- end -}}
{{- if contains "Celery" (toString .Values.airflow.executor) -}}
{{- $redis := .Values.airflow.redis | default dict -}}
{{- if and (eq (toString $redis.enabled) "false") (not $data.brokerUrlSecretName) -}}
{{- fail "airflow.executor uses Celery: enable airflow.redis or set airflow.data.brokerUrlSecretName to an existing Secret" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
