using FuncGateway.Discovery.Kubernetes;
using k8s.Models;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>Which endpoints of a Service become instances: the EndpointSlice conditions read as kube-proxy reads them.</summary>
public sealed class EndpointSliceInstancesTests
{
    [Fact]
    public void Ready_endpoints_count_with_an_absent_condition_read_as_ready_and_terminating_ones_are_left_out_while_any_is_ready()
    {
        var slice = Slice("IPv4", [Port("http", 8080)],
            Endpoint("10.0.0.1", ready: null),
            Endpoint("10.0.0.2", ready: true),
            Endpoint("10.0.0.3", ready: false),                                    // starting: not ready yet
            Endpoint("10.0.0.4", ready: false, serving: true, terminating: true));  // draining: not while others are ready

        Assert.Equal(["http://10.0.0.1:8080", "http://10.0.0.2:8080"], Urls(slice));
    }

    [Fact]
    public void With_no_ready_endpoint_the_serving_terminating_ones_are_used_and_never_those_that_stopped_serving_or_are_starting()
    {
        var slice = Slice("IPv4", [Port("http", 8080)],
            Endpoint("10.0.0.1", ready: false, serving: true, terminating: true),
            Endpoint("10.0.0.2", ready: false, serving: null, terminating: true),
            Endpoint("10.0.0.3", ready: false, serving: false, terminating: true),
            Endpoint("10.0.0.4", ready: false, serving: true, terminating: null));

        Assert.Equal(["http://10.0.0.1:8080", "http://10.0.0.2:8080"], Urls(slice));
    }

    [Fact]
    public void A_ready_endpoint_in_another_slice_of_the_service_keeps_the_terminating_ones_out()
    {
        V1EndpointSlice[] slices =
        [
            Slice("IPv4", [Port("http", 8080)], Endpoint("10.0.0.1", ready: false, serving: true, terminating: true)),
            Slice("IPv6", [Port("http", 8080)], Endpoint("fd00::1", ready: true)),
        ];

        Assert.Equal(["http://[fd00::1]:8080"], Urls(slices));
    }

    [Fact]
    public void The_port_is_chosen_by_name_the_unnamed_port_without_a_port_name_and_only_tcp_ports_with_a_number_count()
    {
        var named = Slice("IPv4", [Port("metrics", 9090), Port("http", 8080)], Endpoint("10.0.0.1"));
        var unnamed = Slice("IPv4", [Port(null, 8081)], Endpoint("10.0.0.2"));
        var udp = Slice("IPv4", [new Discoveryv1EndpointPort { Name = "http", Port = 53, Protocol = "UDP" }], Endpoint("10.0.0.3"));
        var allPorts = Slice("IPv4", [new Discoveryv1EndpointPort { Name = "http" }], Endpoint("10.0.0.4"));

        Assert.Equal(["http://10.0.0.1:8080"], Urls([named, unnamed, udp, allPorts], "http"));
        Assert.Equal(["http://10.0.0.2:8081"], Urls([named, unnamed, udp, allPorts], null));
    }

    [Fact]
    public void Only_the_first_address_of_an_endpoint_is_used_fqdn_slices_are_skipped_and_duplicates_collapse()
    {
        var slice = Slice("IPv4", [Port("http", 8080)], new V1Endpoint { Addresses = ["10.0.0.1", "10.0.0.9"] }, Endpoint("10.0.0.1"));
        var fqdn = Slice("FQDN", [Port("http", 8080)], Endpoint("orders.example.com"));

        Assert.Equal(["https://10.0.0.1:8080"], Urls([slice, fqdn], "http", "https"));
    }

    private static string[] Urls(V1EndpointSlice slice) => Urls([slice], "http");

    private static string[] Urls(V1EndpointSlice[] slices, string? portName = "http", string scheme = "http") =>
        [.. EndpointSliceInstances.From(slices, portName, scheme).Select(static i => i.Url)];

    private static V1EndpointSlice Slice(string addressType, Discoveryv1EndpointPort[] ports, params V1Endpoint[] endpoints) =>
        new() { AddressType = addressType, Ports = ports, Endpoints = endpoints, Metadata = new V1ObjectMeta { Name = "s" } };

    private static Discoveryv1EndpointPort Port(string? name, int port) => new() { Name = name, Port = port, Protocol = "TCP" };

    private static V1Endpoint Endpoint(string address, bool? ready = null, bool? serving = null, bool? terminating = null) =>
        new() { Addresses = [address], Conditions = new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating } };
}
