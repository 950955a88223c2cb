using System.Net;
using System.Net.Sockets;

namespace FuncGateway.Testing;

/// <summary>Free TCP ports on 127.0.0.1, for services that must be told their port up front (or ports with nothing listening).</summary>
public static class LoopbackPorts
{
    /// <summary>A port that was free a moment ago; nothing listens on it until the caller binds it.</summary>
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
