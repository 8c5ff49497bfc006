using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>Start-ParallelTask -Name: a scriptblock (run per item) stays one; anything else becomes its text, which must not be empty.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class TaskNameArgumentAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
        if (value is null or ScriptBlock) return value;
        string text = LanguagePrimitives.ConvertTo<string>(value);
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentTransformationMetadataException("-Name cannot be empty: give a name, or a scriptblock that makes one from $_.");
        return text;
    }
}
