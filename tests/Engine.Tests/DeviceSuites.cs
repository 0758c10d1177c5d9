using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("Engine.Tests.EngineTestFramework", "Engine.Tests")]

namespace Engine.Tests;

/// <summary>
/// Marks a test class that runs only on a device this machine may lack ("cuda" or "opencl"). Where
/// the device is missing, the class is not collected at all, and <see cref="DeviceSuiteTests"/> reports
/// that once, with the reason, instead of one skip per test. <c>ENGINE_REQUIRE_OPENCL=1</c> (CI, with
/// PoCL) collects the OpenCL suites anyway, so that a missing device fails them.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class DeviceSuiteAttribute(string device) : Attribute
{
    /// <summary>"cuda" or "opencl".</summary>
    public string Device { get; } = device;

    /// <summary>True when the suites for <paramref name="device"/> are collected on this machine.</summary>
    public static bool Collected(string device) => device switch
    {
        "cuda" => Engine.Kernels.Accelerators.Count(Engine.Kernels.IlgpuKind.Cuda) > 0,
        "opencl" => Engine.Kernels.Accelerators.Count(Engine.Kernels.IlgpuKind.OpenCL) > 0
                    || Environment.GetEnvironmentVariable("ENGINE_REQUIRE_OPENCL") == "1",
        _ => throw new ArgumentException($"unknown device suite '{device}'"),
    };

    /// <summary>The suites marked for <paramref name="device"/>, and how many tests methods they hold.</summary>
    public static (int Classes, int Methods) Count(string device)
    {
        var classes = typeof(DeviceSuiteAttribute).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<DeviceSuiteAttribute>()?.Device == device).ToList();
        int methods = classes.Sum(c => c.GetMethods().Count(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()));
        return (classes.Count, methods);
    }
}

/// <summary>xunit's framework, with a discoverer that leaves out the device suites this machine cannot run.</summary>
public sealed class EngineTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    /// <inheritdoc/>
    protected override ITestFrameworkDiscoverer CreateDiscoverer(IAssemblyInfo assemblyInfo) =>
        new Discoverer(assemblyInfo, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Discoverer(IAssemblyInfo assembly, ISourceInformationProvider source, IMessageSink sink)
        : XunitTestFrameworkDiscoverer(assembly, source, sink)
    {
        protected override bool FindTestsForType(ITestClass testClass, bool includeSourceInformation, IMessageBus messageBus, ITestFrameworkDiscoveryOptions discoveryOptions)
        {
            var suite = testClass.Class.GetCustomAttributes(typeof(DeviceSuiteAttribute)).FirstOrDefault();
            if (suite is not null && !DeviceSuiteAttribute.Collected(suite.GetConstructorArguments().Cast<string>().Single()))
                return true;   // not collected: DeviceSuiteTests says so once
            return base.FindTestsForType(testClass, includeSourceInformation, messageBus, discoveryOptions);
        }
    }
}

/// <summary>One line per device suite left out, with the reason (instead of a skip per test).</summary>
public sealed class DeviceSuiteTests
{
    [SkippableTheory]
    [InlineData("cuda", "no CUDA device on this machine (the GPU check on a lent GPU: bench/gpu/run.sh)")]
    [InlineData("opencl", "no OpenCL device on this machine (a real one without a GPU: tools/install-pocl.sh, then OCL_ICD_VENDORS; CI sets ENGINE_REQUIRE_OPENCL=1)")]
    public void Device_suites_run_where_their_device_is(string device, string reason)
    {
        var (classes, methods) = DeviceSuiteAttribute.Count(device);
        Assert.True(classes > 0, $"no test class is marked [DeviceSuite(\"{device}\")]");
        Skip.IfNot(DeviceSuiteAttribute.Collected(device), $"{classes} {device} suites ({methods} test methods) not collected: {reason}");
    }
}
