-- Argo CD health check for Lockstep's ExternalSecret, SecretStore and ClusterSecretStore
-- (resource.customizations.health.lockstep.dev_<Kind>; see argocd-cm.yaml beside this file).
-- Healthy when Ready=True for the object's current generation; Degraded when Ready=False (Stalled
-- or not: the Secret keeps its last good value, which is worth a look either way); Progressing
-- while Lockstep has not yet reported on this generation.
local hs = { status = "Progressing", message = "Waiting for Lockstep to report on this object" }
if obj.status == nil then
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Lockstep has not reported on generation " .. obj.metadata.generation .. " yet"
  return hs
end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      if c.status == "True" then
        hs.status = "Healthy"
      elseif c.status == "False" then
        hs.status = "Degraded"
      end
      hs.message = (c.reason or "") .. ": " .. (c.message or "")
      return hs
    end
  end
end
return hs
