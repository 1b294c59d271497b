using WgRouted.Service.Cli;

return await CommandLine.InvokeAsync(args);
