{{/* The step pod (a Pod manifest), shipped as pod template file. */}}
{{- define "parity.stepPod" -}}
apiVersion: v1
kind: Pod
metadata:
  name: parity-step
  labels:
    app.kubernetes.io/name: parity
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/component: step
    {{- with .Values.steps.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # Which contract set the step ran with (the contracts ConfigMap carries the same checksum).
    parity.io/contracts-checksum: {{ include "parity.contractsChecksum" . }}
    {{- with .Values.steps.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "parity.stepServiceAccountName" . }}
  restartPolicy: Never
  securityContext:
    runAsNonRoot: true
    runAsUser: 50000
    runAsGroup: 0
    fsGroup: 0
  containers:
    - name: base
      image: {{ include "parity.image" . }}
      imagePullPolicy: {{ include "parity.imagePullPolicy" . }}
      envFrom:
        - configMapRef:
            name: {{ include "parity.name" (dict "root" . "suffix" "env") }}
        {{- range .Values.connections.secretNames }}
        - secretRef:
            name: {{ . }}
        {{- end }}
      resources:
        {{- toYaml .Values.steps.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        # A read-only root filesystem: dbt, duckdb and the MLflow client write only to /tmp and HOME.
        - name: tmp
          mountPath: /tmp
        - name: home
          mountPath: /home/airflow
        - name: contracts
          mountPath: {{ .Values.contracts.mountPath }}
          readOnly: true
  volumes:
    - name: tmp
      emptyDir: {}
    - name: home
      emptyDir: {}
    - name: contracts
      configMap:
        name: {{ include "parity.name" (dict "root" . "suffix" "contracts") }}
  {{- with .Values.steps.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.steps.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{- define "parity.stepServiceAccountName" -}}
{{- .Values.steps.serviceAccount.name | default (include "parity.name" (dict "root" . "suffix" "steps")) -}}
{{- end -}}
