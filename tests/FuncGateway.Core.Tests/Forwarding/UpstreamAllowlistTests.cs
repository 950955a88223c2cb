using FuncGateway.Core.Tests.Configuration;
using FuncGateway.Model;
using System.Net;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Forwarding;

/// <summary>FuncGateway:Forwarding:AllowedUpstreams and the addresses refused whatever it says.</summary>
public sealed class UpstreamAllowlistTests
{
    private static UpstreamAllowlist Parse(string text)
    {
        var errors = new List<string>();
        var allowlist = UpstreamAllowlist.Parse(text, errors);
        Assert.Empty(errors);
        return allowlist;
    }

    [Theory]
    [InlineData("http://10.1.2.3:8080")]
    [InlineData("http://orders.internal")]
    [InlineData("https://orders.internal:443/base")]
    [InlineData("http://a.svc.example.test:9000")]
    [InlineData("http://[fd00::5]:8080")]
    [InlineData("http://payments.internal:8443")]
    public void Listed_hosts_suffixes_addresses_and_ranges_are_allowed(string url)
    {
        var allowlist = Parse("10.0.0.0/8, orders.internal, *.svc.example.test, fd00::/8, payments.internal:8443");

        Assert.Null(allowlist.Check(url));
    }

    [Theory]
    [InlineData("http://11.0.0.1", "'11.0.0.1'")]
    [InlineData("http://evil.example", "'evil.example'")]
    [InlineData("http://svc.example.test", "'svc.example.test'")] // *.suffix is subdomains only, not the apex
    [InlineData("http://payments.internal:8080", "'payments.internal:8080'")] // listed with another port
    [InlineData("http://127.0.0.1:5080", "'127.0.0.1:5080'")]
    public void Anything_else_is_refused_naming_the_setting(string url, string shown)
    {
        var allowlist = Parse("10.0.0.0/8, orders.internal, *.svc.example.test, payments.internal:8443");

        var reason = allowlist.Check(url);

        Assert.NotNull(reason);
        Assert.Contains(shown + " is not in FuncGateway:Forwarding:AllowedUpstreams (10.0.0.0/8,orders.internal,*.svc.example.test,payments.internal:8443).", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://169.254.169.254")]
    [InlineData("http://169.254.169.254./latest/meta-data")]
    [InlineData("http://2852039166")] // 169.254.169.254 as one number
    [InlineData("http://0xA9.0xFE.0xA9.0xFE")]
    [InlineData("http://169.254.170.2")]
    [InlineData("http://[::ffff:169.254.169.254]")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]")]
    [InlineData("http://[fe80::1]:8080")]
    [InlineData("http://[fe80::1%25eth0]:8080")]
    [InlineData("http://[fd00:ec2::254]")]
    [InlineData("http://168.63.129.16")]
    [InlineData("http://100.100.100.200")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1")]
    [InlineData("http://METADATA.GOOGLE.INTERNAL.")]
    [InlineData("http://metadata.goog")]
    public void Link_local_and_metadata_addresses_are_refused_whatever_the_list_says(string url)
    {
        foreach (var allowlist in new[] { UpstreamAllowlist.Any, Parse("*"), Parse("0.0.0.0/0, ::/0, *.internal, metadata.google.internal, metadata.goog") })
        {
            var reason = allowlist.Check(url);

            Assert.NotNull(reason);
            Assert.Contains("link-local or cloud metadata address", reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Without_a_list_any_other_upstream_is_allowed()
    {
        Assert.Null(UpstreamAllowlist.Any.Check("http://127.0.0.1:5080"));
        Assert.Null(UpstreamAllowlist.Any.Check("https://api.example.com/v1"));
        Assert.Same(UpstreamAllowlist.Any, Parse(" , "));
    }

    [Fact]
    public void Bad_entries_are_reported_each_under_the_setting_key()
    {
        var errors = new List<string>();

        UpstreamAllowlist.Parse("10.0.0.0/8, 10.0.0.0/33, http://x, a.*.example", errors);

        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("FuncGateway:Forwarding:AllowedUpstreams: ", e, StringComparison.Ordinal));
        Assert.Contains("'10.0.0.0/33' is not a CIDR range", errors[0], StringComparison.Ordinal);
        Assert.Contains("'http://x'", errors[1], StringComparison.Ordinal);
        Assert.Contains("'a.*.example'", errors[2], StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_pointing_outside_the_list_is_rejected_with_its_reason_and_the_others_load()
    {
        var builder = new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
            upstreamAllowlist: Parse("10.0.0.0/8"), poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()));

        var snapshot = builder.Build(new RegistryContent(
            [
                Upstream("inside", """["http://10.0.0.4:8080"]"""),
                Upstream("outside", """["http://10.0.0.5:8080","http://192.168.1.9"]"""),
                Upstream("imds", """["http://169.254.169.254"]"""),
            ],
            [
                Route("ok", "/ok", "inside"),
                Route("via-outside", "/o", "outside"),
                Route("inline-outside", "/i", "http://evil.example"),
                Route("inline-imds", "/m", "http://[fd00:ec2::254]/latest"),
            ]), version: 1, DateTimeOffset.UnixEpoch);

        Assert.Equal(["ok"], snapshot.Routes.Select(r => r.Definition.Id));
        var reasons = snapshot.Rejected.ToDictionary(r => r.RowKey, r => string.Join(" | ", r.Errors));
        Assert.Equal("Instance '192.168.1.9' is not in FuncGateway:Forwarding:AllowedUpstreams (10.0.0.0/8).", reasons["outside"]);
        Assert.Contains("Instance '169.254.169.254' is a link-local or cloud metadata address", reasons["imds"], StringComparison.Ordinal);
        Assert.Contains("Upstream pool 'outside' exists but was rejected", reasons["via-outside"], StringComparison.Ordinal);
        Assert.Equal("Upstream 'evil.example' is not in FuncGateway:Forwarding:AllowedUpstreams (10.0.0.0/8).", reasons["inline-outside"]);
        Assert.Contains("Upstream '[fd00:ec2::254]' is a link-local or cloud metadata address", reasons["inline-imds"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("[fe80::1]")]
    public async Task The_connect_step_never_opens_a_connection_to_a_refused_address(string host)
    {
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = UpstreamAllowlist.ConnectAsync, ConnectTimeout = TimeSpan.FromSeconds(5) });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri($"http://{host}/latest/meta-data")));

        Assert.Contains("link-local or cloud metadata addresses", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_forwarding_lists_stop_the_host_at_start_up_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FuncGateway:Forwarding:PublicHosts"] = "api.example.com, https://api.example.com/",
            ["FuncGateway:Forwarding:AllowedUpstreams"] = "10.0.0.0/33",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<GatewayOptions>>().Value);

        Assert.Equal(2, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.StartsWith("FuncGateway:Forwarding:PublicHosts: Host 'https://api.example.com/'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("FuncGateway:Forwarding:AllowedUpstreams: '10.0.0.0/33' is not a CIDR range", StringComparison.Ordinal));
    }

    [Fact]
    public void Always_refused_addresses_cover_the_documented_ranges()
    {
        Assert.True(UpstreamAllowlist.IsAlwaysRefused(IPAddress.Parse("169.254.0.1")));
        Assert.True(UpstreamAllowlist.IsAlwaysRefused(IPAddress.Parse("fe80::abcd")));
        Assert.False(UpstreamAllowlist.IsAlwaysRefused(IPAddress.Parse("127.0.0.1")));
        Assert.False(UpstreamAllowlist.IsAlwaysRefused(IPAddress.Parse("10.0.0.1")));
        Assert.False(UpstreamAllowlist.IsAlwaysRefused(IPAddress.Parse("::1")));
    }
}
