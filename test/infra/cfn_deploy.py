#!/usr/bin/env python3
"""Deploy both CloudFormation templates into moto_server's CloudFormation and check the result.

Usage: cfn_deploy.py ENDPOINT REPO_ROOT
For each stack: create a VPC and two subnets, create-stack with the test's parameters (static tenants
and control mode for the processing stack), wait for CREATE_COMPLETE, and compare the created resource
types with the template's (resources whose Condition is false are expected to be absent). Resource types
moto cannot create are named in the output and the rest is still checked.
"""
import sys, time, json, uuid
import boto3, yaml

ENDPOINT, ROOT = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
cfn = boto3.client("cloudformation", **kw)
ec2 = boto3.client("ec2", **kw)
sm = boto3.client("secretsmanager", **kw)

class Loader(yaml.SafeLoader):
    pass
def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}
Loader.add_multi_constructor("!", _tag)

# Resource types moto's CloudFormation accepts but does not create (seen with moto 5.2).
MOTO_SKIPS = {"AWS::S3::BucketPolicy"}
# moto's ELBv2 rejects UDP and TCP listeners ("must be one of HTTP, HTTPS"): for the moto deployment the
# proxy template's listeners are removed (they are checked by cfn-lint) and the rest is deployed.
MOTO_REJECTS = {("AWS::ElasticLoadBalancingV2::Listener", "UDP"), ("AWS::ElasticLoadBalancingV2::Listener", "TCP")}

def moto_variant(template):
    """Template text without the resources moto rejects; returns (text, removed names)."""
    doc = yaml.load(open(template), Loader=Loader)
    removed = [n for n, r in doc["Resources"].items()
               if (r["Type"], str(r.get("Properties", {}).get("Protocol"))) in MOTO_REJECTS]
    if not removed:
        return open(template).read(), []
    raw = yaml.safe_load(json.dumps(to_json(doc)))
    for n in removed:
        del raw["Resources"][n]
    for r in raw["Resources"].values():
        if "DependsOn" in r:
            r["DependsOn"] = [d for d in r["DependsOn"] if d not in removed]
    return json.dumps(raw), removed

def to_json(node):
    """Turn the tag-preserving load ({'Ref': x} for !Ref) into CloudFormation JSON intrinsics."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ("Ref", "Condition") or k.startswith("Fn::"):
                out[k] = to_json(v)
            elif k in ("Sub", "GetAtt", "If", "Not", "Equals", "Join", "Select", "Split", "And", "Or", "Base64", "GetAZs", "ImportValue", "FindInMap", "Cidr"):
                if k == "GetAtt" and isinstance(v, str):
                    v = v.split(".", 1)
                out["Fn::" + k] = to_json(v)
            else:
                out[k] = to_json(v)
        return out
    if isinstance(node, list):
        return [to_json(x) for x in node]
    return node

def network():
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subs = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
            for i, z in ((1, "a"), (2, "b"))]
    return vpc, subs

def expected(template, params):
    doc = yaml.load(open(template), Loader=Loader)
    conds = {"HasControl": bool(params.get("ControlServiceUrl")),
             "HasCertificate": bool(params.get("CertificateArn")),
             "NoCertificate": not params.get("CertificateArn"),
             "HasTenantsBucket": bool(params.get("TenantsBucket"))}
    out = {}
    for name, r in doc["Resources"].items():
        c = r.get("Condition")
        if c and not conds[c]:
            continue
        out[name] = r["Type"]
    return out

def deploy(name, template, params):
    body, removed = moto_variant(template)
    if removed:
        print(f"{name}: moto rejects {removed} (UDP/TCP listeners); deploying without them")
    cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
    for _ in range(600):
        st = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not st["StackStatus"].endswith("IN_PROGRESS"):
            break
        time.sleep(0.2)
    status = st["StackStatus"]
    res = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    got = {r["LogicalResourceId"]: r["ResourceType"] for r in res if r["LogicalResourceId"]}
    want = expected(template, params)
    for n in removed:
        want.pop(n, None)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    print(f"{name}: {status}, {len(got)} resources (template expects {len(want)})")
    if extra:
        print(f"  unexpected resources: {extra}")
    ok = status == "CREATE_COMPLETE" and not extra
    if missing:
        types = sorted({want[m] for m in missing})
        print(f"  not created by moto: {missing} (types {types})")
        # Only types moto lacks may be missing; anything else is a failure.
        unsupported = MOTO_SKIPS
        bad = [m for m in missing if want[m] not in unsupported]
        if bad:
            ok = False
            print(f"  FAIL: missing resources of supported types: {bad}")
    outs = {o["OutputKey"]: o.get("OutputValue") for o in st.get("Outputs", [])}
    print(f"  outputs: {sorted(outs)}")
    return ok, outs

failures = 0
vpc, subs = network()
RUN = uuid.uuid4().hex[:6]   # moto is shared with other tests: unique names, no reset
arn = sm.create_secret(Name=f"bytefreezer/control-api-key-{RUN}", SecretString="k")["ARN"]
base = {"Environment": "staging", "VpcId": vpc, "SubnetIds": ",".join(subs), "ImageTag": "test"}
proc = f"{ROOT}/infra/ecs/bytefreezer/cloudformation.yaml"
proxy = f"{ROOT}/infra/ecs/proxy/cloudformation.yaml"
cases = [
    ("bf-static", proc, dict(base)),
    ("bf-control", proc, dict(base, Environment="development", ControlServiceUrl="https://control.example.invalid",
                              ControlServiceApiKeyArn=arn, ControlAccountId="acct1", S3BucketPrefix=f"bfc{RUN}")),
    ("bf-proxy-site", proxy, dict(base, SiteName="datacenter-with-a-very-long-name-01", ReceiverUrl="http://receiver.invalid",
                                  TenantsBucket="cfg-bucket")),
    ("bf-proxy-ctl", proxy, dict(base, Environment="development", SiteName="edge1", ReceiverUrl="http://receiver.invalid",
                                 ControlServiceUrl="https://control.example.invalid", ControlServiceApiKeyArn=arn)),
]
for name, tpl, params in cases:
    if "S3BucketPrefix" not in params and tpl == proc:
        params["S3BucketPrefix"] = f"bf{RUN}"
    ok, outs = deploy(f"{name}-{RUN}", tpl, params)
    if tpl == proc and "ReceiverUrl" not in outs:
        ok = False; print("  FAIL: no ReceiverUrl output")
    if tpl == proxy and "ProxyEndpoint" not in outs:
        ok = False; print("  FAIL: no ProxyEndpoint output")
    failures += 0 if ok else 1
print("cfn deploy:", "ok" if failures == 0 else f"{failures} failed")
sys.exit(1 if failures else 0)
