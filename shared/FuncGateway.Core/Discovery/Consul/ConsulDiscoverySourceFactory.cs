using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery.Consul;

/// <summary>What a pool asks Consul for: the passing instances of <see cref="Service"/>, optionally with <see cref="Tag"/>, in <see cref="Datacenter"/>.</summary>
internal sealed record ConsulSpecification(string Service, string Scheme, string? Tag, string? Datacenter);

/// <summary>
/// Makes the <c>consul</c> sources: <c>{"Source":"consul","Service":"orders","Scheme":"http","Tag":"v2","Datacenter":"dc1"}</c>.
/// Every source shares one HTTP client to the agent at <c>FuncGateway:Discovery:Consul:Address</c>.
/// </summary>
internal sealed class ConsulDiscoverySourceFactory : DiscoverySourceFactory, IDisposable
{
    /// <summary>The <c>Source</c> value of a Consul pool.</summary>
    public const string SourceKind = "consul";

    private static readonly string[] Fields = ["Service", "Scheme", "Tag", "Datacenter"];

    private readonly HttpClient _http;
    private readonly ConsulDiscoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ConsulDiscoverySourceFactory(IOptions<ConsulDiscoveryOptions> options, TimeProvider time, ILogger<ConsulDiscoverySource> logger)
        : base(SourceKind, Fields)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;

        // Blocking queries hold a request for up to WaitSeconds (plus Consul's jitter): each request gets its own
        // deadline instead of the client-wide 100 s default. No proxy and no redirects, like the gateway's forwarder.
        _http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    protected override IDiscoverySource? Create(string poolName, DiscoverySpecificationReader reader, List<string> errors)
    {
        var service = reader.Text("Service", required: true);
        var scheme = reader.Scheme();
        var tag = reader.Text("Tag", required: false);
        var datacenter = reader.Text("Datacenter", required: false);
        if (!reader.IsValid || service is null)
        {
            return null;
        }

        return new ConsulDiscoverySource(poolName, new ConsulSpecification(service, scheme, tag, datacenter), _http, _options, _time, _logger);
    }

    public void Dispose() => _http.Dispose();
}
