using System.Diagnostics;
using System.Net;
using DnsClient;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>
/// Debian's dnsmasq as a real DNS server for the discovery tests: a child process on 127.0.0.1 and a free port,
/// authoritative for <c>.internal</c> (unknown names there are NXDOMAIN), answering from a hosts file the test rewrites
/// (re-read on SIGHUP) and from <c>--srv-host</c>/<c>--host-record</c> options (changed by a restart on the same port).
/// Records have a TTL of 1 s. <c>scripts/test.sh</c> installs dnsmasq when it runs as root; where it could have been
/// installed and is missing, the tests fail, elsewhere they are skipped.
/// </summary>
internal sealed class Dnsmasq : IAsyncDisposable
{
    public const string Path = "/usr/sbin/dnsmasq";

    public const string Missing = "dnsmasq is not installed (/usr/sbin/dnsmasq): install the Debian package 'dnsmasq' (scripts/test.sh does so when it runs as root).";

    private readonly string _hostsFile;
    private Process? _process;
    private IReadOnlyList<string> _options = [];

    private Dnsmasq(int port, string hostsFile)
    {
        Port = port;
        _hostsFile = hostsFile;
    }

    /// <summary>True where dnsmasq must be there: in CI and as root, scripts/test.sh has installed it.</summary>
    public static bool Required =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        || (OperatingSystem.IsLinux() && Environment.UserName == "root");

    public static bool Installed => File.Exists(Path);

    public int Port { get; }

    /// <summary>The value of <c>FuncGateway:Discovery:Dns:Servers</c> that points at this server.</summary>
    public string Server => $"127.0.0.1:{Port}";

    /// <summary>Starts dnsmasq with <paramref name="hosts"/> (address, name) in its hosts file and <paramref name="options"/> on its command line.</summary>
    public static async Task<Dnsmasq> StartAsync(IEnumerable<(string Address, string Name)> hosts, params string[] options)
    {
        var file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fgw-dnsmasq-{Guid.NewGuid():N}.hosts");
        var server = new Dnsmasq(LoopbackPorts.GetFree(), file);
        await server.WriteHostsAsync(hosts);
        await server.RestartAsync(options);
        return server;
    }

    /// <summary>Replaces the hosts file and tells dnsmasq to re-read it (SIGHUP); returns once it answers with the new records.</summary>
    public async Task SetHostsAsync(IEnumerable<(string Address, string Name)> hosts)
    {
        await WriteHostsAsync(hosts);
        using var hup = Process.Start("kill", ["-HUP", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await hup.WaitForExitAsync();
    }

    /// <summary>Stops dnsmasq and starts it again on the same port with <paramref name="options"/> (SRV records live on the command line).</summary>
    public async Task RestartAsync(params string[] options)
    {
        await StopAsync();
        _options = options;
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--no-daemon", "--conf-file=/dev/null", $"--port={Port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", $"--addn-hosts={_hostsFile}", "--local=/internal/", "--local-ttl=1", "--pid-file=", "--user=root",
        }.Concat(_options))
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAnsweringAsync();
    }

    /// <summary>Kills dnsmasq: the port then answers nothing (queries time out), as a DNS outage does.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        File.Delete(_hostsFile);
    }

    private async Task WriteHostsAsync(IEnumerable<(string Address, string Name)> hosts)
    {
        var temp = _hostsFile + ".new";
        await File.WriteAllLinesAsync(temp, hosts.Select(static h => $"{h.Address} {h.Name}"));
        File.Move(temp, _hostsFile, overwrite: true);
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var client = new LookupClient(new LookupClientOptions(new IPEndPoint(IPAddress.Loopback, Port)) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(200), Retries = 0 });
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.QueryAsync("probe.internal", QueryType.A);
                return;
            }
            catch (DnsResponseException) when (started.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }
        }
    }
}
