using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Data.Tables;

namespace FuncGateway.Testing;

/// <summary>
/// A private, in-memory Azurite table service on a free loopback port, started from the repository's pinned npm
/// package (<c>npm ci</c> installs it). Real Table Storage semantics without an Azure account.
/// </summary>
/// <remarks>
/// Tests that stop it to simulate an outage should own their instance (or restart it in a <c>finally</c>): a restart
/// comes back empty, because storage is in memory.
/// </remarks>
public sealed class AzuriteInstance : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development account key (public, documented, not a secret).</summary>
    public const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string ReadyMarker = "successfully started";
    private const string PortInUseMarker = "EADDRINUSE";
    private const int MaxStartAttempts = 5;
    private const int MaxKeptOutputLines = 200;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly string _executable;
    private readonly string _workingDirectory;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private RunningProcess? _running;
    private bool _disposed;

    private AzuriteInstance(string executable, string workingDirectory, int port)
    {
        _executable = executable;
        _workingDirectory = workingDirectory;
        Port = port;
        TableEndpoint = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/{AccountName}");
        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};TableEndpoint={TableEndpoint};";
        AppDomain.CurrentDomain.ProcessExit += KillOnProcessExit;
    }

    /// <summary>The loopback port the table service listens on; it stays the same across <see cref="RestartAsync"/>.</summary>
    public int Port { get; }

    /// <summary>The table endpoint, <c>http://127.0.0.1:{port}/devstoreaccount1</c>.</summary>
    public Uri TableEndpoint { get; }

    /// <summary>An explicit development-account connection string for this instance.</summary>
    public string ConnectionString { get; }

    /// <summary>Whether the Azurite process is running (false after <see cref="StopAsync"/>).</summary>
    public bool IsRunning => _running is { Process.HasExited: false };

    /// <summary>
    /// Starts Azurite's table service on a free port and waits (up to 30 s) until a real table call succeeds.
    /// </summary>
    /// <exception cref="InvalidOperationException">Azurite is not installed (run <c>npm ci</c>) or it failed to start.</exception>
    public static async Task<AzuriteInstance> StartAsync(CancellationToken cancellationToken = default)
    {
        var root = RepositoryRoot.Path;
        var executable = FindExecutable(root);
        for (var attempt = 1; ; attempt++)
        {
            var instance = new AzuriteInstance(executable, root, GetFreePort());
            try
            {
                await instance.StartProcessAsync(cancellationToken);
                return instance;
            }
            catch (PortInUseException) when (attempt < MaxStartAttempts)
            {
                // Another process took the port between our probe and Azurite's bind: pick another one.
                await instance.DisposeAsync();
            }
            catch
            {
                await instance.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Creates a client for this instance (no shared state; callers own its lifetime).</summary>
    public TableServiceClient CreateTableServiceClient(TableClientOptions? options = null) =>
        new(ConnectionString, options ?? new TableClientOptions());

    /// <summary>Kills the Azurite process tree and waits for it to exit: storage is unreachable until a restart.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            await StopProcessAsync(cancellationToken);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops Azurite if it runs, then starts it again on the same port, empty (storage is in memory).</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            await StopProcessAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await StartProcessCoreAsync(cancellationToken);
                    return;
                }
                catch (PortInUseException) when (attempt < MaxStartAttempts)
                {
                    // The port must stay the same (clients hold the connection string): wait for it to be released.
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
                }
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        AppDomain.CurrentDomain.ProcessExit -= KillOnProcessExit;
        await StopProcessAsync(CancellationToken.None);
        _lifecycle.Dispose();
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            await StartProcessCoreAsync(cancellationToken);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartProcessCoreAsync(CancellationToken cancellationToken)
    {
        var running = RunningProcess.Start(_executable, _workingDirectory, Port);
        _running = running;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            await WaitUntilReadyAsync(running, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await StopProcessAsync(CancellationToken.None);
            throw new InvalidOperationException(
                $"Azurite did not become ready on port {Port} within {StartTimeout.TotalSeconds:0} s.{running.DescribeOutput()}",
                running.LastProbeError);
        }
        catch
        {
            await StopProcessAsync(CancellationToken.None);
            throw;
        }
    }

    // Ready means: this process said it started (so a foreign listener on a reused port cannot fool us), the port
    // accepts connections, and a real table call succeeds.
    private async Task WaitUntilReadyAsync(RunningProcess running, CancellationToken cancellationToken)
    {
        var probeClient = CreateTableServiceClient(new TableClientOptions
        {
            Retry = { MaxRetries = 0, NetworkTimeout = ProbeTimeout },
        });

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (running.Process.HasExited)
            {
                await running.Process.WaitForExitAsync(cancellationToken);
                var output = running.DescribeOutput();
                if (output.Contains(PortInUseMarker, StringComparison.Ordinal))
                {
                    throw new PortInUseException(Port);
                }

                throw new InvalidOperationException(
                    $"Azurite exited with code {running.Process.ExitCode} before it was ready on port {Port}.{output}",
                    running.LastProbeError);
            }

            if (running.HasReportedReady && await AcceptsConnectionsAsync(Port, cancellationToken))
            {
                try
                {
                    await foreach (var _ in probeClient.QueryAsync(maxPerPage: 1, cancellationToken: cancellationToken))
                    {
                        break;
                    }

                    return;
                }
                catch (Exception exception) when (exception is Azure.RequestFailedException or HttpRequestException or IOException)
                {
                    running.LastProbeError = exception;
                }
                catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // The probe's own network timeout, not the start-up deadline: try again.
                    running.LastProbeError = exception;
                }
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private async Task StopProcessAsync(CancellationToken cancellationToken)
    {
        var running = Interlocked.Exchange(ref _running, null);
        if (running is null)
        {
            return;
        }

        running.Kill();
        await running.Process.WaitForExitAsync(cancellationToken);
        running.Process.Dispose();
    }

    // A test host that ends without disposing (a crashed fixture, Ctrl+C) must not leave Azurite behind.
    private void KillOnProcessExit(object? sender, EventArgs e) => _running?.Kill();

    private static string FindExecutable(string repositoryRoot)
    {
        var name = OperatingSystem.IsWindows() ? "azurite-table.cmd" : "azurite-table";
        var path = System.IO.Path.Combine(repositoryRoot, "node_modules", ".bin", name);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed ({path} is missing). Run `npm ci` in {repositoryRoot} (scripts/test.sh does).");
        }

        return path;
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private sealed class PortInUseException(int port) : Exception($"Port {port} is already in use.");

    /// <summary>One Azurite process with its output drained (so its pipes never fill) and the tail kept for errors.</summary>
    private sealed class RunningProcess
    {
        private readonly Queue<string> _output = new();
        private volatile bool _hasReportedReady;

        private RunningProcess(Process process) => Process = process;

        public Process Process { get; }

        public bool HasReportedReady => _hasReportedReady;

        /// <summary>Why the last readiness probe failed, for the start-up error.</summary>
        public Exception? LastProbeError { get; set; }

        public static RunningProcess Start(string executable, string workingDirectory, int port)
        {
            var startInfo = new ProcessStartInfo(executable)
            {
                WorkingDirectory = workingDirectory,
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (var argument in new[]
            {
                "--inMemoryPersistence", "--disableTelemetry", "--tableHost", "127.0.0.1",
                "--tablePort", port.ToString(CultureInfo.InvariantCulture), "--silent",
            })
            {
                startInfo.ArgumentList.Add(argument);
            }

            var process = new Process { StartInfo = startInfo };
            var running = new RunningProcess(process);
            process.OutputDataReceived += (_, e) => running.Append("out", e.Data);
            process.ErrorDataReceived += (_, e) => running.Append("err", e.Data);
            if (!process.Start())
            {
                throw new InvalidOperationException($"Could not start {executable}.");
            }

            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return running;
        }

        public void Kill()
        {
            try
            {
                Process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited (or never started): nothing to kill.
            }
        }

        public string DescribeOutput()
        {
            lock (_output)
            {
                return _output.Count == 0
                    ? " It printed nothing."
                    : $"{Environment.NewLine}Azurite output:{Environment.NewLine}{string.Join(Environment.NewLine, _output)}";
            }
        }

        private void Append(string stream, string? line)
        {
            if (line is null)
            {
                return;
            }

            if (stream == "out" && line.Contains(ReadyMarker, StringComparison.Ordinal))
            {
                _hasReportedReady = true;
            }

            lock (_output)
            {
                if (_output.Count == MaxKeptOutputLines)
                {
                    _output.Dequeue();
                }

                _output.Enqueue($"[{stream}] {line}");
            }
        }
    }
}
