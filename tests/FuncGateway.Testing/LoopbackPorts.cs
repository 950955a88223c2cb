using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace FuncGateway.Testing;

/// <summary>Free TCP ports on 127.0.0.1, for services that must be told their port up front, and ports that refuse connections.</summary>
public static class LoopbackPorts
{
    // Bound, never listening, kept for the life of the test process: see GetRefusing.
    private static readonly ConcurrentBag<Socket> Refusing = [];

    /// <summary>A port that was free a moment ago; nothing listens on it until the caller binds it.</summary>
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// A port on which every connection is refused for the rest of the test run: a socket is bound to it and never
    /// listens, so the port cannot be handed to another test's server (a released free port could be, by the next
    /// bind to port 0, and a "dead" upstream would then answer).
    /// </summary>
    public static int GetRefusing()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Refusing.Add(socket);
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
