using System.Collections.Concurrent;
using System.Net;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using FuncGateway.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Admin;

/// <summary>
/// Keeps refused admin requests cheap and their logs bounded, per instance and per fixed window
/// (<c>FuncGateway:Admin:FailureWindowSeconds</c>): the first refusal of each client address in a window is logged
/// (event 3000, at most <see cref="MaxLoggedClientsPerWindow"/> addresses a window), the rest are only counted and
/// summed up in one line when the window ends (event 3005). A client that sent <c>MaxFailedAttempts</c> wrong keys in
/// the window gets 429 until it ends, whatever key it sends, so the key cannot be guessed faster than that. All in
/// memory, nothing written anywhere: a flood of refusals costs a dictionary lookup each.
/// </summary>
internal sealed class AdminKeyFailures : IDisposable
{
    /// <summary>Client addresses counted per window; refusals from more are counted in the summary only (never 429).</summary>
    public const int MaxTrackedClients = 10_000;

    /// <summary>Client addresses whose first refusal of a window is logged on its own (event 3000).</summary>
    public const int MaxLoggedClientsPerWindow = 20;

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxFailedAttempts;
    private readonly TimeSpan _window;
    private readonly ITimer _timer;
    private Window _current;

    public AdminKeyFailures(IOptions<GatewayOptions> options, TimeProvider time, ILogger<AdminKeyFailures> logger)
    {
        _time = time;
        _logger = logger;
        _maxFailedAttempts = options.Value.Admin.MaxFailedAttempts;
        _window = TimeSpan.FromSeconds(options.Value.Admin.FailureWindowSeconds);
        _current = new Window(time.GetUtcNow());
        _timer = time.CreateTimer(static state => ((AdminKeyFailures)state!).EndWindow(), this, _window, _window);
    }

    /// <summary>
    /// Whether <paramref name="client"/> has sent too many wrong keys in this window; then <paramref name="retryAfterSeconds"/>
    /// is the time to the window's end, in whole seconds (at least 1).
    /// </summary>
    public bool IsThrottled(IPAddress? client, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        var window = Volatile.Read(ref _current);
        if (_maxFailedAttempts == 0 || Volatile.Read(ref window.Tracked) == 0
            || !window.Clients.TryGetValue(KeyOf(client), out var counter) || Volatile.Read(ref counter.WrongKeys) < _maxFailedAttempts)
        {
            return false;
        }

        Interlocked.Increment(ref window.Throttled);
        var left = window.StartedAt + _window - _time.GetUtcNow();
        retryAfterSeconds = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds));
        return true;
    }

    /// <summary>
    /// Counts one refused admin request: <paramref name="wrongKey"/> when a key was sent (a guess), false when none was
    /// (counted and logged alike, but never towards the 429: a request without a key guesses nothing).
    /// </summary>
    public void RecordRefusal(IPAddress? client, string path, bool wrongKey)
    {
        var window = Volatile.Read(ref _current);
        Interlocked.Increment(ref window.Refused);
        var key = KeyOf(client);
        if (!window.Clients.TryGetValue(key, out var counter))
        {
            // Counted by hand: ConcurrentDictionary.Count takes every lock, on each new address of a flood.
            if (Volatile.Read(ref window.Tracked) >= MaxTrackedClients)
            {
                Interlocked.Increment(ref window.Untracked);
                return;
            }

            var added = new Counter();
            counter = window.Clients.TryAdd(key, added) ? added : window.Clients[key];
            if (ReferenceEquals(counter, added))
            {
                Interlocked.Increment(ref window.Tracked);
            }
        }

        if (wrongKey)
        {
            Interlocked.Increment(ref counter.WrongKeys);
        }

        if (Interlocked.Increment(ref counter.Refusals) == 1 && Interlocked.Increment(ref window.LoggedClients) <= MaxLoggedClientsPerWindow)
        {
            Interlocked.Increment(ref window.Logged);
            Log.AdminUnauthorized(_logger, path, key, (int)_window.TotalSeconds);
        }
    }

    /// <summary>Starts a new window and says what the last one refused beyond what was logged line by line.</summary>
    private void EndWindow()
    {
        var ended = Interlocked.Exchange(ref _current, new Window(_time.GetUtcNow()));
        var refused = Volatile.Read(ref ended.Refused);
        var throttled = Volatile.Read(ref ended.Throttled);
        if (refused > ended.Logged || throttled > 0)
        {
            Log.AdminUnauthorizedSummary(_logger, refused, (int)_window.TotalSeconds, Volatile.Read(ref ended.Tracked), ended.Untracked > 0 ? "+" : "",
                refused - ended.Logged, throttled);
        }
    }

    /// <summary>The address as rate limits count it: an IPv6 client by its /64, which one client usually owns whole.</summary>
    private static string KeyOf(IPAddress? client) => PartitionKeySpec.ClientIpKey(client, 64)[3..];

    public void Dispose() => _timer.Dispose();

    private sealed class Counter
    {
        public int Refusals;
        public int WrongKeys;
    }

    private sealed class Window(DateTimeOffset startedAt)
    {
        public readonly DateTimeOffset StartedAt = startedAt;
        public readonly ConcurrentDictionary<string, Counter> Clients = new(StringComparer.Ordinal);
        public int Tracked;
        public int Refused;
        public int Throttled;
        public int LoggedClients;
        public int Logged;
        public int Untracked;
    }
}
