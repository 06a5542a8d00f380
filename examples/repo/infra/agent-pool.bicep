// Managed DevOps Pool that runs the CI agents.
resource pool 'Microsoft.DevOpsInfrastructure/pools@2025-01-21' = {
  name: 'ci-pool'
  location: 'eastus'
  properties: {
    maximumConcurrency: 4
    fabricProfile: {
      kind: 'Vmss'
      sku: {
        name: 'Standard_D4ads_v5'
      }
      images: [
        {
          resourceId: '/Subscriptions/00000000-0000-0000-0000-000000000000/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/versions/latest'
        }
      ]
    }
  }
}
