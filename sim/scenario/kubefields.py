"""Field names of the Kubernetes API objects a scenario's manifests are made of.

Written out from the Kubernetes API reference (v1.35). The reader models some of
these fields; the others are accepted and their subtree is not inspected, so that
``kubectl get pod -o yaml`` output reads cleanly while a misspelt field is still an
error.
"""

OBJECT_META_FIELDS = (
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "finalizers",
    "generateName",
    "generation",
    "labels",
    "managedFields",
    "name",
    "namespace",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
    "uid",
)
POD_SPEC_FIELDS = (
    "activeDeadlineSeconds",
    "affinity",
    "automountServiceAccountToken",
    "containers",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "ephemeralContainers",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostUsers",
    "hostname",
    "hostnameOverride",
    "imagePullSecrets",
    "initContainers",
    "nodeName",
    "nodeSelector",
    "os",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "resourceClaims",
    "resources",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "schedulingGates",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "setHostnameAsFQDN",
    "shareProcessNamespace",
    "subdomain",
    "terminationGracePeriodSeconds",
    "tolerations",
    "topologySpreadConstraints",
    "volumes",
    "workloadRef",
)
CONTAINER_FIELDS = (
    "args",
    "command",
    "env",
    "envFrom",
    "image",
    "imagePullPolicy",
    "lifecycle",
    "livenessProbe",
    "name",
    "ports",
    "readinessProbe",
    "resizePolicy",
    "resources",
    "restartPolicy",
    "restartPolicyRules",
    "securityContext",
    "startupProbe",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeDevices",
    "volumeMounts",
    "workingDir",
)
POD_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
LIFECYCLE_FIELDS = ("postStart", "preStop", "stopSignal")
CONTAINER_PORT_FIELDS = ("containerPort", "hostIP", "hostPort", "name", "protocol")
ENV_VAR_FIELDS = ("name", "value", "valueFrom")
ENV_VAR_SOURCE_FIELDS = (
    "configMapKeyRef",
    "fieldRef",
    "fileKeyRef",
    "resourceFieldRef",
    "secretKeyRef",
)
SECRET_KEY_SELECTOR_FIELDS = ("key", "name", "optional")
ENV_FROM_SOURCE_FIELDS = ("configMapRef", "prefix", "secretRef")
SECRET_ENV_SOURCE_FIELDS = ("name", "optional")
VOLUME_MOUNT_FIELDS = (
    "mountPath",
    "mountPropagation",
    "name",
    "readOnly",
    "recursiveReadOnly",
    "subPath",
    "subPathExpr",
)
VOLUME_SOURCES = (
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "secret",
    "storageos",
    "vsphereVolume",
)
VOLUME_FIELDS = ("name", *VOLUME_SOURCES)
SECRET_VOLUME_SOURCE_FIELDS = ("defaultMode", "items", "optional", "secretName")
PROJECTED_VOLUME_SOURCE_FIELDS = ("defaultMode", "sources")
VOLUME_PROJECTION_FIELDS = (
    "clusterTrustBundle",
    "configMap",
    "downwardAPI",
    "podCertificate",
    "secret",
    "serviceAccountToken",
)
SECRET_PROJECTION_FIELDS = ("items", "name", "optional")
LOCAL_OBJECT_REFERENCE_FIELDS = ("name",)
OBJECT_REFERENCE_FIELDS = (
    "apiVersion",
    "fieldPath",
    "kind",
    "name",
    "namespace",
    "resourceVersion",
    "uid",
)
SERVICE_ACCOUNT_FIELDS = (
    "apiVersion",
    "automountServiceAccountToken",
    "imagePullSecrets",
    "kind",
    "metadata",
    "secrets",
)
SECRET_FIELDS = (
    "apiVersion",
    "data",
    "immutable",
    "kind",
    "metadata",
    "stringData",
    "type",
)
SERVICE_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
SERVICE_SPEC_FIELDS = (
    "allocateLoadBalancerNodePorts",
    "clusterIP",
    "clusterIPs",
    "externalIPs",
    "externalName",
    "externalTrafficPolicy",
    "healthCheckNodePort",
    "internalTrafficPolicy",
    "ipFamilies",
    "ipFamilyPolicy",
    "loadBalancerClass",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "ports",
    "publishNotReadyAddresses",
    "selector",
    "sessionAffinity",
    "sessionAffinityConfig",
    "trafficDistribution",
    "type",
)
SERVICE_PORT_FIELDS = (
    "appProtocol",
    "name",
    "nodePort",
    "port",
    "protocol",
    "targetPort",
)
DEPLOYMENT_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
DEPLOYMENT_SPEC_FIELDS = (
    "minReadySeconds",
    "paused",
    "progressDeadlineSeconds",
    "replicas",
    "revisionHistoryLimit",
    "selector",
    "strategy",
    "template",
)
DEPLOYMENT_STRATEGY_FIELDS = ("rollingUpdate", "type")
ROLLING_UPDATE_DEPLOYMENT_FIELDS = ("maxSurge", "maxUnavailable")
LABEL_SELECTOR_FIELDS = ("matchExpressions", "matchLabels")
POD_TEMPLATE_SPEC_FIELDS = ("metadata", "spec")
