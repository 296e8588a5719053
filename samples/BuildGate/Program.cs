// The BuildGate sample's program only reports what the build put beside it; the work happens in `dotnet build`.
var model = Path.Combine(AppContext.BaseDirectory, "classifier.repaired.onnx");
Console.WriteLine(File.Exists(model) ? $"repaired model: {model} ({new FileInfo(model).Length} bytes)" : "no repaired model in the output folder");
