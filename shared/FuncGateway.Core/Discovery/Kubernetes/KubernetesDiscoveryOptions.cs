namespace FuncGateway.Discovery.Kubernetes;

/// <summary>
/// How the gateway reaches the Kubernetes API server (<c>FuncGateway:Discovery:Kubernetes</c>), for every pool whose
/// discovery source is <c>kubernetes</c>. Without a kubeconfig the pod's service account is used (in-cluster).
/// </summary>
public sealed class KubernetesDiscoveryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FuncGateway:Discovery:Kubernetes";

    /// <summary>A kubeconfig file's path. Empty: the in-cluster service account (token and CA under <c>/var/run/secrets/kubernetes.io/serviceaccount</c>).</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context to use; empty: the file's <c>current-context</c>. Only with <see cref="Kubeconfig"/>.</summary>
    public string? Context { get; set; }
}
