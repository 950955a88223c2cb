using System.Text.RegularExpressions;
using k8s;
using k8s.Exceptions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery.Kubernetes;

/// <summary>What a pool asks Kubernetes for: the endpoints of Service <see cref="Service"/> in <see cref="Namespace"/>, on the port named <see cref="PortName"/>.</summary>
internal sealed record KubernetesSpecification(string Namespace, string Service, string? PortName, string Scheme);

/// <summary>
/// Makes the <c>kubernetes</c> sources: <c>{"Source":"kubernetes","Namespace":"shop","Service":"orders","PortName":"http","Scheme":"http"}</c>.
/// Every source shares one client of the official KubernetesClient package, configured once from
/// <c>FuncGateway:Discovery:Kubernetes:Kubeconfig</c> (and <c>Context</c>) or the pod's service account.
/// </summary>
internal sealed partial class KubernetesDiscoverySourceFactory(IOptions<KubernetesDiscoveryOptions> options, TimeProvider time, ILogger<KubernetesDiscoverySource> logger)
    : DiscoverySourceFactory(SourceKind, Fields), IDisposable
{
    /// <summary>The <c>Source</c> value of a Kubernetes pool.</summary>
    public const string SourceKind = "kubernetes";

    private static readonly string[] Fields = ["Namespace", "Service", "PortName", "Scheme"];

    private readonly KubernetesDiscoveryOptions _options = options.Value;
    private readonly Lock _lock = new();
    private k8s.Kubernetes? _client;

    protected override IDiscoverySource? Create(string poolName, DiscoverySpecificationReader reader, List<string> errors)
    {
        var @namespace = Label(reader, "Namespace", required: true);
        var service = Label(reader, "Service", required: true);
        var portName = Label(reader, "PortName", required: false);
        var scheme = reader.Scheme();
        if (!reader.IsValid || @namespace is null || service is null || Client(errors) is not { } client)
        {
            return null;
        }

        return new KubernetesDiscoverySource(poolName, new KubernetesSpecification(@namespace, service, portName, scheme), client, time, logger);
    }

    public void Dispose() => _client?.Dispose();

    /// <summary>A name Kubernetes accepts for a namespace, Service or port: a DNS label (RFC 1123, at most 63 characters).</summary>
    private static string? Label(DiscoverySpecificationReader reader, string name, bool required)
    {
        var value = reader.Text(name, required);
        if (value is not null && (value.Length > 63 || !DnsLabel().IsMatch(value)))
        {
            reader.Fail(name, $"must be a DNS label (lower-case letters, digits and '-', at most 63 characters), not '{value}'");
            return null;
        }

        return value;
    }

    /// <summary>The shared client, made on first use; when it cannot be configured, the reason goes to <paramref name="errors"/> (and the next snapshot tries again).</summary>
    private k8s.Kubernetes? Client(List<string> errors)
    {
        lock (_lock)
        {
            if (_client is not null)
            {
                return _client;
            }

            try
            {
                KubernetesClientConfiguration configuration;
                if (!string.IsNullOrEmpty(_options.Kubeconfig))
                {
                    configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(_options.Kubeconfig, string.IsNullOrEmpty(_options.Context) ? null : _options.Context);
                }
                else if (KubernetesClientConfiguration.IsInCluster())
                {
                    configuration = KubernetesClientConfiguration.InClusterConfig();
                }
                else
                {
                    errors.Add($"Discovery ({SourceKind}): no Kubernetes API server is configured: set {KubernetesDiscoveryOptions.SectionName}:Kubeconfig to a kubeconfig file, or run in a pod with a service account (KUBERNETES_SERVICE_HOST and /var/run/secrets/kubernetes.io/serviceaccount).");
                    return null;
                }

                _client = new k8s.Kubernetes(configuration);
                return _client;
            }
            catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or YamlDotNet.Core.YamlException)
            {
                errors.Add($"Discovery ({SourceKind}): the Kubernetes client could not be configured from {(string.IsNullOrEmpty(_options.Kubeconfig) ? "the in-cluster service account" : $"kubeconfig '{_options.Kubeconfig}'")}: {e.Message}");
                return null;
            }
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();
}
