using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FuncGateway.Functions.EndToEnd.Tests.Host;

/// <summary>
/// The built <c>FuncGateway.Functions</c> worker as its own process, started the way the Functions host starts a
/// language worker (<c>RpcWorkerProcess</c> with an <c>RpcWorkerContext</c> in Azure/azure-functions-host).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Command: <c>defaultExecutablePath</c> and <c>defaultWorkerPath</c> of the app's <c>worker.config.json</c>
/// (which the worker SDK writes: <c>dotnet FuncGateway.Functions.dll</c>), run in the app directory.</item>
/// <item>Arguments: both sets the host passes, <c>--host --port --workerId --requestId --grpcMaxMessageLength</c> and
/// their <c>--functions-*</c> twins (<c>--functions-uri</c> is what the .NET worker reads, as
/// <c>Functions:Worker:HostEndpoint</c>).</item>
/// <item>Environment: the test process's own, the app settings (in Azure, app settings are environment variables
/// of the host and so of the worker), <c>FUNCTIONS_WORKER_DIRECTORY</c> and <c>FUNCTIONS_APPLICATION_DIRECTORY</c>
/// (which the host adds), and <c>FUNCTIONS_WORKER_RUNTIME</c> / <c>AzureWebJobsScriptRoot</c> as a deployed app has them.</item>
/// </list>
/// </remarks>
internal sealed class WorkerProcess : IAsyncDisposable
{
    /// <summary>RpcWorkerConstants.DefaultMaxMessageLengthBytes in the host.</summary>
    private const int MaxMessageLength = int.MaxValue;
    private const int MaxKeptOutputLines = 300;
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    private readonly Queue<string> _output = new();
    private readonly Process _process;

    private WorkerProcess(Process process, string workerId)
    {
        _process = process;
        WorkerId = workerId;
        AppDomain.CurrentDomain.ProcessExit += KillOnProcessExit;
    }

    public string WorkerId { get; }

    /// <summary>Completes when the process has exited (for whatever reason).</summary>
    public Task Exited { get; private set; } = Task.CompletedTask;

    public static WorkerProcess Start(string appDirectory, Uri rpcEndpoint, IReadOnlyDictionary<string, string?> appSettings)
    {
        var (executable, workerPath) = ReadWorkerConfig(appDirectory);
        var workerId = Guid.NewGuid().ToString();
        var requestId = Guid.NewGuid().ToString();
        var max = MaxMessageLength.ToString(CultureInfo.InvariantCulture);

        var startInfo = new ProcessStartInfo(executable)
        {
            WorkingDirectory = appDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(appDirectory, workerPath));
        foreach (var argument in new[]
        {
            "--host", rpcEndpoint.Host, "--port", rpcEndpoint.Port.ToString(CultureInfo.InvariantCulture),
            "--workerId", workerId, "--requestId", requestId, "--grpcMaxMessageLength", max,
            "--functions-uri", rpcEndpoint.AbsoluteUri, "--functions-worker-id", workerId,
            "--functions-request-id", requestId, "--functions-grpc-max-message-length", max,
        })
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        startInfo.Environment["AzureWebJobsScriptRoot"] = appDirectory;
        foreach (var (name, value) in appSettings)
        {
            startInfo.Environment[name] = value;
        }

        startInfo.Environment["FUNCTIONS_WORKER_DIRECTORY"] = appDirectory;
        startInfo.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = appDirectory;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process, workerId);
        process.OutputDataReceived += (_, e) => worker.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Keep(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start '{executable}' for the worker in '{appDirectory}'.");
        }

        worker.Exited = process.WaitForExitAsync();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>The last lines the worker wrote to stdout and stderr, for failure messages.</summary>
    public string DescribeOutput()
    {
        lock (_output)
        {
            var exit = _process.HasExited ? $" (exited with code {_process.ExitCode})" : "";
            return _output.Count == 0
                ? $"{Environment.NewLine}The worker{exit} wrote nothing to stdout/stderr."
                : $"{Environment.NewLine}The worker{exit} wrote (last {_output.Count} lines):{Environment.NewLine}{string.Join(Environment.NewLine, _output)}";
        }
    }

    /// <summary>Waits for the process to end by itself (after WorkerTerminate), then kills what is left.</summary>
    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillOnProcessExit;
        try
        {
            await Exited.WaitAsync(ExitWait);
        }
        catch (TimeoutException)
        {
            Kill();
            await Exited;
        }

        _process.Dispose();
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void KillOnProcessExit(object? sender, EventArgs e) => Kill();

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > MaxKeptOutputLines)
            {
                _output.Dequeue();
            }
        }
    }

    // The host reads the worker's description from worker.config.json; for a .NET isolated app the SDK writes it into
    // the app's output.
    private static (string Executable, string WorkerPath) ReadWorkerConfig(string appDirectory)
    {
        var path = Path.Combine(appDirectory, "worker.config.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"No worker.config.json in '{appDirectory}'. Build the solution first ('dotnet build FuncGateway.sln -c Release').", path);
        }

        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var description = config.RootElement.GetProperty("description");
        return (description.GetProperty("defaultExecutablePath").GetString()!, description.GetProperty("defaultWorkerPath").GetString()!);
    }
}
