var builder = WebApplication.CreateBuilder(args);
builder.Services.AddFuncGateway(builder.Configuration);
var app = builder.Build();
app.Run();
