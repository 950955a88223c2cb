using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.RateLimiting;

/// <summary>
/// A FuncGateway server in its own process (the built <c>FuncGateway.Server.dll</c>, same build configuration as
/// this test assembly), configured through <c>FuncGateway__...</c> environment variables: a real separate instance,
/// sharing nothing with the others but storage.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private GatewayProcess(Process process, Uri address, bool http2)
    {
        _process = process;
        Address = address;
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 1000 })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (http2)
        {
            // HTTP/2 without TLS: the client starts with the HTTP/2 preface (prior knowledge).
            Client.DefaultRequestVersion = HttpVersion.Version20;
            Client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public static string ServerAssemblyPath
    {
        get
        {
            var configuration = typeof(GatewayProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = RepositoryRoot.Combine($"functions/FuncGateway.Server/bin/{configuration}/net10.0/FuncGateway.Server.dll");
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException($"{path} is missing: build the solution (-c {configuration}) first.", path);
        }
    }

    /// <summary>
    /// Starts the server on a free loopback port and waits until it answers its health endpoint.
    /// <paramref name="environment"/> adds environment variables as they are (e.g. <c>LD_PRELOAD</c>).
    /// With <paramref name="http2"/> the endpoint speaks HTTP/2 only, without TLS, and <see cref="Client"/> does too.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string>? environment = null, bool http2 = false)
    {
        var port = LoopbackPorts.GetFree();
        var address = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,

            // Not the repository: a local.settings.json there must not leak in.
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(ServerAssemblyPath);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(address.ToString().TrimEnd('/'));
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["AzureWebJobsStorage"] = "";
        if (http2)
        {
            // A configured endpoint replaces --urls: the same address, HTTP/2 only.
            start.Environment["Kestrel__Endpoints__Gateway__Url"] = address.ToString().TrimEnd('/');
            start.Environment["Kestrel__Endpoints__Gateway__Protocols"] = "Http2";
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var gateway = new GatewayProcess(process, address, http2);
        process.OutputDataReceived += (_, e) => gateway.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Keep(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await gateway.WaitUntilReadyAsync();
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync()
    {
        using var deadline = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The gateway process exited with code {_process.ExitCode} before it was ready.{Output()}");
            }

            try
            {
                using var response = await Client.GetAsync("/_gateway/healthz", deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"The gateway process was not ready within {StartTimeout.TotalSeconds} s.{Output()}");
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Count == 200)
            {
                _output.Dequeue();
            }

            _output.Enqueue(line);
        }
    }

    /// <summary>Whether the process printed a line containing <paramref name="text"/> (of its last 200 lines).</summary>
    public bool Printed(string text)
    {
        lock (_output)
        {
            return _output.Any(line => line.Contains(text, StringComparison.Ordinal));
        }
    }

    /// <summary>The last lines the process printed, for failure messages.</summary>
    public string Output()
    {
        lock (_output)
        {
            return _output.Count == 0 ? " It printed nothing." : Environment.NewLine + string.Join(Environment.NewLine, _output);
        }
    }
}
