using System.Diagnostics;
using System.Net.Sockets;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Caching;

/// <summary>
/// A real redis-server (Debian package <c>redis-server</c>) on a free loopback port, in memory only. Installed with
/// <c>apt-get</c> when missing and the tests run as root (as CI does); stopped by its process id.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private const string Executable = "/usr/bin/redis-server";

    private Process? _process;

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000";

    public async Task InitializeAsync()
    {
        if (!File.Exists(Executable))
        {
            await InstallAsync();
        }

        Port = LoopbackPorts.GetFree();
        _process = Process.Start(new ProcessStartInfo(Executable, ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task InstallAsync()
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("redis-server is missing: install it with `apt-get install -y redis-server` (the tests install it themselves when run as root).");
        }

        foreach (var args in new[] { "update", "install -y --no-install-recommends redis-server" })
        {
            using var apt = Process.Start(new ProcessStartInfo("apt-get", args)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["DEBIAN_FRONTEND"] = "noninteractive" },
            })!;
            var output = apt.StandardOutput.ReadToEndAsync();
            var error = apt.StandardError.ReadToEndAsync();
            await apt.WaitForExitAsync();
            if (apt.ExitCode != 0)
            {
                throw new InvalidOperationException($"apt-get {args} failed ({apt.ExitCode}): {await error}{await output}");
            }
        }
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        return Task.CompletedTask;
    }
}
