using System.Diagnostics;
using System.Runtime;

namespace FuncGateway.Admin;

/// <summary>
/// The process's memory and runtime figures for <c>GET /_gateway/status</c>: what an operator sizing a plan (the
/// Flex Consumption instance memory) or chasing a leak reads first. All of it comes from counters the runtime keeps
/// anyway; nothing here walks the heap or pauses the process.
/// </summary>
internal static class ProcessReport
{
    private static readonly DateTimeOffset StartedAt = ReadStartTime();

    /// <summary>The figures as of now.</summary>
    public static object Build()
    {
        var gc = GC.GetGCMemoryInfo(GCKind.Any);
        return new
        {
            startedAt = StartedAt,
            workingSetBytes = Environment.WorkingSet,
            gc = new
            {
                mode = GCSettings.IsServerGC ? "server" : "workstation",
                heapSizeBytes = gc.HeapSizeBytes,
                fragmentedBytes = gc.FragmentedBytes,
                committedBytes = gc.TotalCommittedBytes,
                promotedBytes = gc.PromotedBytes,
                allocatedBytes = GC.GetTotalAllocatedBytes(),
                collections = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) },
                pauseTimePercentage = gc.PauseTimePercentage,
                totalAvailableMemoryBytes = gc.TotalAvailableMemoryBytes,
            },
            jit = new
            {
                methods = System.Runtime.JitInfo.GetCompiledMethodCount(),
                ilBytes = System.Runtime.JitInfo.GetCompiledILBytes(),
            },
            threads = new
            {
                process = ThreadCount(),
                threadPool = ThreadPool.ThreadCount,
            },
        };
    }

    private static int ThreadCount()
    {
        using var process = Process.GetCurrentProcess();
        return process.Threads.Count;
    }

    private static DateTimeOffset ReadStartTime()
    {
        using var process = Process.GetCurrentProcess();
        return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
    }
}
