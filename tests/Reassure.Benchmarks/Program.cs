using BenchmarkDotNet.Running;
using Reassure.Benchmarks;

// dotnet run -c Release --project tests/Reassure.Benchmarks -- mnist --points 100 [--threads n] [--baseline on|off]
// dotnet run -c Release --project tests/Reassure.Benchmarks -- micro [BenchmarkDotNet arguments, default --filter *]
if (args.Length > 0 && args[0] == "mnist") return MnistMacro.Run(args[1..]);
if (args.Length > 0 && args[0] == "micro")
{
    var rest = args.Length > 1 ? args[1..] : ["--filter", "*"];
    BenchmarkSwitcher.FromAssembly(typeof(MnistMacro).Assembly).Run(rest);
    return 0;
}
Console.Error.WriteLine("usage: mnist --points 10|100|10,100 [--threads n] [--baseline on|off] [--baseline-points 10] [--inference on|off] [--memory on|off]");
Console.Error.WriteLine("       micro [BenchmarkDotNet arguments; default --filter *]");
return 2;
