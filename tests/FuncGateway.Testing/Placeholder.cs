namespace FuncGateway.Testing;
