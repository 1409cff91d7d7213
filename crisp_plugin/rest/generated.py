"""One class per Crisp service with a method per route. GENERATED: do not edit.

Produced by scripts/gen_routes.py from routes.tsv. Each method takes the route's
path parameters positionally (URL-encoded for you), then ``body`` (JSON, for verbs
that carry one) and ``query`` (a mapping; objects and lists are sent as JSON,
booleans as 1/0), and returns the envelope's ``data`` as plain JSON values.
Typed forms of the bot-critical routes live on ``RestClient`` itself.
"""

from __future__ import annotations

from typing import Any

from crisp_plugin.rest.core import Body, Query, RestCore

__all__ = [
    "BucketRoutes",
    "MediaRoutes",
    "PlanRoutes",
    "PluginRoutes",
    "WebsiteRoutes",
]


class _Group:
    __slots__ = ("_c",)

    def __init__(self, core: RestCore) -> None:
        self._c = core

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class BucketRoutes(_Group):
    """The ``bucket`` service: ``rest.bucket.<method>(...)``."""

    async def generate_bucket_url(
        self,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/bucket/url/generate

        Node client: ``BucketURL.generateBucketURL``.
        """
        return await self._c.call("POST", "/v1/bucket/url/generate", (), body, query)


class MediaRoutes(_Group):
    """The ``media`` service: ``rest.media.<method>(...)``."""

    async def list_animation_medias(
        self,
        page_number: int,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/media/animation/list/{page_number}

        Node client: ``MediaAnimation.listAnimationMedias``.
        """
        return await self._c.call("GET", "/v1/media/animation/list/{}", (page_number,), None, query)


class PlanRoutes(_Group):
    """The ``plan`` service: ``rest.plan.<method>(...)``."""

    async def list_all_active_subscriptions(
        self,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plans/subscription

        Node client: ``PlanSubscription.listAllActiveSubscriptions``.
        """
        return await self._c.call("GET", "/v1/plans/subscription", (), None, query)

    async def get_plan_subscription_for_website(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plans/subscription/{website_id}

        Node client: ``PlanSubscription.getPlanSubscriptionForWebsite``.
        """
        return await self._c.call("GET", "/v1/plans/subscription/{}", (website_id,), None, query)

    async def subscribe_website_to_plan(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/plans/subscription/{website_id}

        Node client: ``PlanSubscription.subscribeWebsiteToPlan``.
        """
        return await self._c.call("POST", "/v1/plans/subscription/{}", (website_id,), body, query)

    async def unsubscribe_plan_from_website(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/plans/subscription/{website_id}

        Node client: ``PlanSubscription.unsubscribePlanFromWebsite``.
        """
        return await self._c.call("DELETE", "/v1/plans/subscription/{}", (website_id,), body, query)

    async def change_bill_period_for_website_plan_subscription(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/plans/subscription/{website_id}/bill/period

        Node client: ``PlanSubscription.changeBillPeriodForWebsitePlanSubscription``.
        """
        return await self._c.call(
            "PATCH", "/v1/plans/subscription/{}/bill/period", (website_id,), body, query
        )

    async def check_coupon_availability_for_website_plan_subscription(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plans/subscription/{website_id}/coupon

        Node client: ``PlanSubscription.checkCouponAvailabilityForWebsitePlanSubscription``.
        """
        return await self._c.call(
            "GET", "/v1/plans/subscription/{}/coupon", (website_id,), None, query
        )

    async def redeem_coupon_for_website_plan_subscription(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/plans/subscription/{website_id}/coupon

        Node client: ``PlanSubscription.redeemCouponForWebsitePlanSubscription``.
        """
        return await self._c.call(
            "PATCH", "/v1/plans/subscription/{}/coupon", (website_id,), body, query
        )


class PluginRoutes(_Group):
    """The ``plugin`` service: ``rest.plugin.<method>(...)``."""

    async def get_connect_account(
        self,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugin/connect/account

        Node client: ``PluginConnect.getConnectAccount``.
        """
        return await self._c.call("GET", "/v1/plugin/connect/account", (), None, query)

    async def check_connect_session_validity(
        self,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/plugin/connect/session

        Node client: ``PluginConnect.checkConnectSessionValidity``.
        """
        return await self._c.call("HEAD", "/v1/plugin/connect/session", (), None, query)

    async def list_all_connect_websites(
        self,
        page_number: int,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugin/connect/websites/all/{page_number}

        Node client: ``PluginConnect.listAllConnectWebsites``.
        """
        return await self._c.call(
            "GET", "/v1/plugin/connect/websites/all/{}", (page_number,), None, query
        )

    async def list_connect_websites_since(
        self,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugin/connect/websites/since

        Node client: ``PluginConnect.listConnectWebsitesSince``.
        """
        return await self._c.call("GET", "/v1/plugin/connect/websites/since", (), None, query)

    async def get_connect_endpoints(
        self,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugin/connect/endpoints

        Node client: ``PluginConnect.getConnectEndpoints``.
        """
        return await self._c.call("GET", "/v1/plugin/connect/endpoints", (), None, query)

    async def list_all_active_subscriptions(
        self,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugins/subscription

        Node client: ``PluginSubscription.listAllActiveSubscriptions``.
        """
        return await self._c.call("GET", "/v1/plugins/subscription", (), None, query)

    async def list_subscriptions_for_website(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugins/subscription/{website_id}

        Node client: ``PluginSubscription.listSubscriptionsForWebsite``.
        """
        return await self._c.call("GET", "/v1/plugins/subscription/{}", (website_id,), None, query)

    async def get_subscription_details(
        self,
        website_id: str,
        plugin_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugins/subscription/{website_id}/{plugin_id}

        Node client: ``PluginSubscription.getSubscriptionDetails``.
        """
        return await self._c.call(
            "GET",
            "/v1/plugins/subscription/{}/{}",
            (
                website_id,
                plugin_id,
            ),
            None,
            query,
        )

    async def subscribe_website_to_plugin(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/plugins/subscription/{website_id}

        Node client: ``PluginSubscription.subscribeWebsiteToPlugin``.
        """
        return await self._c.call("POST", "/v1/plugins/subscription/{}", (website_id,), body, query)

    async def unsubscribe_plugin_from_website(
        self,
        website_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/plugins/subscription/{website_id}/{plugin_id}

        Node client: ``PluginSubscription.unsubscribePluginFromWebsite``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/plugins/subscription/{}/{}",
            (
                website_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def get_subscription_settings(
        self,
        website_id: str,
        plugin_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugins/subscription/{website_id}/{plugin_id}/settings

        Node client: ``PluginSubscription.getSubscriptionSettings``.
        """
        return await self._c.call(
            "GET",
            "/v1/plugins/subscription/{}/{}/settings",
            (
                website_id,
                plugin_id,
            ),
            None,
            query,
        )

    async def save_subscription_settings(
        self,
        website_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/plugins/subscription/{website_id}/{plugin_id}/settings

        Node client: ``PluginSubscription.saveSubscriptionSettings``.
        """
        return await self._c.call(
            "PUT",
            "/v1/plugins/subscription/{}/{}/settings",
            (
                website_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def update_subscription_settings(
        self,
        website_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/plugins/subscription/{website_id}/{plugin_id}/settings

        Node client: ``PluginSubscription.updateSubscriptionSettings``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/plugins/subscription/{}/{}/settings",
            (
                website_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def get_plugin_usage_bills(
        self,
        website_id: str,
        plugin_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugins/subscription/{website_id}/{plugin_id}/bill/usage

        Node client: ``PluginSubscription.getPluginUsageBills``.
        """
        return await self._c.call(
            "GET",
            "/v1/plugins/subscription/{}/{}/bill/usage",
            (
                website_id,
                plugin_id,
            ),
            None,
            query,
        )

    async def report_plugin_usage_to_bill(
        self,
        website_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/plugins/subscription/{website_id}/{plugin_id}/bill/usage

        Node client: ``PluginSubscription.reportPluginUsageToBill``.
        """
        return await self._c.call(
            "POST",
            "/v1/plugins/subscription/{}/{}/bill/usage",
            (
                website_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def get_plugin_attest_provenance(
        self,
        website_id: str,
        plugin_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/plugins/subscription/{website_id}/{plugin_id}/attest/provenance

        Node client: ``PluginSubscription.getPluginAttestProvenance``.
        """
        return await self._c.call(
            "GET",
            "/v1/plugins/subscription/{}/{}/attest/provenance",
            (
                website_id,
                plugin_id,
            ),
            None,
            query,
        )

    async def forward_plugin_payload_to_channel(
        self,
        website_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/plugins/subscription/{website_id}/{plugin_id}/channel

        Node client: ``PluginSubscription.forwardPluginPayloadToChannel``.
        """
        return await self._c.call(
            "POST",
            "/v1/plugins/subscription/{}/{}/channel",
            (
                website_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def dispatch_plugin_event(
        self,
        website_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/plugins/subscription/{website_id}/{plugin_id}/event

        Node client: ``PluginSubscription.dispatchPluginEvent``.
        """
        return await self._c.call(
            "POST",
            "/v1/plugins/subscription/{}/{}/event",
            (
                website_id,
                plugin_id,
            ),
            body,
            query,
        )


class WebsiteRoutes(_Group):
    """The ``website`` service: ``rest.website.<method>(...)``."""

    async def generate_analytics(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/analytics/generate

        Node client: ``WebsiteAnalytics.generateAnalytics``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/analytics/generate", (website_id,), body, query
        )

    async def get_website_availability_status(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/availability/status

        Node client: ``WebsiteAvailability.getWebsiteAvailabilityStatus``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/availability/status", (website_id,), None, query
        )

    async def list_website_operator_availabilities(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/availability/operators

        Node client: ``WebsiteAvailability.listWebsiteOperatorAvailabilities``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/availability/operators", (website_id,), None, query
        )

    async def check_website_exists(
        self,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website

        Node client: ``WebsiteBase.checkWebsiteExists``.
        """
        return await self._c.call("HEAD", "/v1/website", (), None, query)

    async def create_website(
        self,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website

        Node client: ``WebsiteBase.createWebsite``.
        """
        return await self._c.call("POST", "/v1/website", (), body, query)

    async def get_website(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}

        Node client: ``WebsiteBase.getWebsite``.
        """
        return await self._c.call("GET", "/v1/website/{}", (website_id,), None, query)

    async def delete_website(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}

        Node client: ``WebsiteBase.deleteWebsite``.
        """
        return await self._c.call("DELETE", "/v1/website/{}", (website_id,), body, query)

    async def abort_website_deletion(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/expunge

        Node client: ``WebsiteBase.abortWebsiteDeletion``.
        """
        return await self._c.call("DELETE", "/v1/website/{}/expunge", (website_id,), body, query)

    async def batch_resolve_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/resolve

        Node client: ``WebsiteBatch.batchResolveConversations``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/resolve", (website_id,), body, query
        )

    async def batch_unresolve_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/unresolve

        Node client: ``WebsiteBatch.batchUnresolveConversations``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/unresolve", (website_id,), body, query
        )

    async def batch_read_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/read

        Node client: ``WebsiteBatch.batchReadConversations``.
        """
        return await self._c.call("PATCH", "/v1/website/{}/batch/read", (website_id,), body, query)

    async def batch_unread_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/unread

        Node client: ``WebsiteBatch.batchUnreadConversations``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/unread", (website_id,), body, query
        )

    async def batch_remove_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/remove

        Node client: ``WebsiteBatch.batchRemoveConversations``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/remove", (website_id,), body, query
        )

    async def batch_remove_people(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/remove

        Node client: ``WebsiteBatch.batchRemovePeople``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/remove", (website_id,), body, query
        )

    async def batch_report_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/batch/report

        Node client: ``WebsiteBatch.batchReportConversations``.
        """
        return await self._c.call("POST", "/v1/website/{}/batch/report", (website_id,), body, query)

    async def batch_block_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/block

        Node client: ``WebsiteBatch.batchBlockConversations``.
        """
        return await self._c.call("PATCH", "/v1/website/{}/batch/block", (website_id,), body, query)

    async def batch_routing_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/routing

        Node client: ``WebsiteBatch.batchRoutingConversations``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/routing", (website_id,), body, query
        )

    async def batch_inbox_conversations(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/inbox

        Node client: ``WebsiteBatch.batchInboxConversations``.
        """
        return await self._c.call("PATCH", "/v1/website/{}/batch/inbox", (website_id,), body, query)

    async def batch_update_conversations_data(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/data

        Node client: ``WebsiteBatch.batchUpdateConversationsData``.
        """
        return await self._c.call("PATCH", "/v1/website/{}/batch/data", (website_id,), body, query)

    async def batch_update_people_data(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/data

        Node client: ``WebsiteBatch.batchUpdatePeopleData``.
        """
        return await self._c.call("PATCH", "/v1/website/{}/batch/data", (website_id,), body, query)

    async def batch_update_conversations_segments(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/segments

        Node client: ``WebsiteBatch.batchUpdateConversationsSegments``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/segments", (website_id,), body, query
        )

    async def batch_update_people_segments(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/batch/segments

        Node client: ``WebsiteBatch.batchUpdatePeopleSegments``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/batch/segments", (website_id,), body, query
        )

    async def list_campaigns(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/campaigns/list/{page_number}

        Node client: ``WebsiteCampaign.listCampaigns``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/campaigns/list/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def list_campaign_tags(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/campaigns/tags

        Node client: ``WebsiteCampaign.listCampaignTags``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/campaigns/tags", (website_id,), None, query
        )

    async def list_campaign_templates(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/campaigns/templates/{page_number}

        Node client: ``WebsiteCampaign.listCampaignTemplates``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/campaigns/templates/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def create_new_campaign_template(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/campaigns/template

        Node client: ``WebsiteCampaign.createNewCampaignTemplate``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/campaigns/template", (website_id,), body, query
        )

    async def check_campaign_template_exists(
        self,
        website_id: str,
        template_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/campaigns/template/{template_id}

        Node client: ``WebsiteCampaign.checkCampaignTemplateExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/campaigns/template/{}",
            (
                website_id,
                template_id,
            ),
            None,
            query,
        )

    async def get_campaign_template(
        self,
        website_id: str,
        template_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/campaigns/template/{template_id}

        Node client: ``WebsiteCampaign.getCampaignTemplate``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/campaigns/template/{}",
            (
                website_id,
                template_id,
            ),
            None,
            query,
        )

    async def save_campaign_template(
        self,
        website_id: str,
        template_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/campaigns/template/{template_id}

        Node client: ``WebsiteCampaign.saveCampaignTemplate``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/campaigns/template/{}",
            (
                website_id,
                template_id,
            ),
            body,
            query,
        )

    async def update_campaign_template(
        self,
        website_id: str,
        template_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/campaigns/template/{template_id}

        Node client: ``WebsiteCampaign.updateCampaignTemplate``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/campaigns/template/{}",
            (
                website_id,
                template_id,
            ),
            body,
            query,
        )

    async def remove_campaign_template(
        self,
        website_id: str,
        template_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/campaigns/template/{template_id}

        Node client: ``WebsiteCampaign.removeCampaignTemplate``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/campaigns/template/{}",
            (
                website_id,
                template_id,
            ),
            body,
            query,
        )

    async def create_new_campaign(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/campaign

        Node client: ``WebsiteCampaign.createNewCampaign``.
        """
        return await self._c.call("POST", "/v1/website/{}/campaign", (website_id,), body, query)

    async def check_campaign_exists(
        self,
        website_id: str,
        campaign_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/campaign/{campaign_id}

        Node client: ``WebsiteCampaign.checkCampaignExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/campaign/{}",
            (
                website_id,
                campaign_id,
            ),
            None,
            query,
        )

    async def get_campaign(
        self,
        website_id: str,
        campaign_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/campaign/{campaign_id}

        Node client: ``WebsiteCampaign.getCampaign``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/campaign/{}",
            (
                website_id,
                campaign_id,
            ),
            None,
            query,
        )

    async def save_campaign(
        self,
        website_id: str,
        campaign_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/campaign/{campaign_id}

        Node client: ``WebsiteCampaign.saveCampaign``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/campaign/{}",
            (
                website_id,
                campaign_id,
            ),
            body,
            query,
        )

    async def update_campaign(
        self,
        website_id: str,
        campaign_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/campaign/{campaign_id}

        Node client: ``WebsiteCampaign.updateCampaign``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/campaign/{}",
            (
                website_id,
                campaign_id,
            ),
            body,
            query,
        )

    async def remove_campaign(
        self,
        website_id: str,
        campaign_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/campaign/{campaign_id}

        Node client: ``WebsiteCampaign.removeCampaign``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/campaign/{}",
            (
                website_id,
                campaign_id,
            ),
            body,
            query,
        )

    async def dispatch_campaign(
        self,
        website_id: str,
        campaign_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/campaign/{campaign_id}/dispatch

        Node client: ``WebsiteCampaign.dispatchCampaign``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/campaign/{}/dispatch",
            (
                website_id,
                campaign_id,
            ),
            body,
            query,
        )

    async def resume_campaign(
        self,
        website_id: str,
        campaign_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/campaign/{campaign_id}/resume

        Node client: ``WebsiteCampaign.resumeCampaign``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/campaign/{}/resume",
            (
                website_id,
                campaign_id,
            ),
            body,
            query,
        )

    async def pause_campaign(
        self,
        website_id: str,
        campaign_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/campaign/{campaign_id}/pause

        Node client: ``WebsiteCampaign.pauseCampaign``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/campaign/{}/pause",
            (
                website_id,
                campaign_id,
            ),
            body,
            query,
        )

    async def test_campaign(
        self,
        website_id: str,
        campaign_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/campaign/{campaign_id}/test

        Node client: ``WebsiteCampaign.testCampaign``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/campaign/{}/test",
            (
                website_id,
                campaign_id,
            ),
            body,
            query,
        )

    async def list_campaign_recipients(
        self,
        website_id: str,
        campaign_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/campaign/{campaign_id}/recipients/{page_number}

        Node client: ``WebsiteCampaign.listCampaignRecipients``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/campaign/{}/recipients/{}",
            (
                website_id,
                campaign_id,
                page_number,
            ),
            None,
            query,
        )

    async def list_campaign_statistics(
        self,
        website_id: str,
        campaign_id: str,
        action: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/campaign/{campaign_id}/statistics/{action}/{page_number}

        Node client: ``WebsiteCampaign.listCampaignStatistics``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/campaign/{}/statistics/{}/{}",
            (
                website_id,
                campaign_id,
                action,
                page_number,
            ),
            None,
            query,
        )

    async def get_connect_endpoints(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/connect/endpoints

        Node client: ``WebsiteConnect.getConnectEndpoints``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/connect/endpoints", (website_id,), None, query
        )

    async def list_conversations(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversations/{page_number}

        Node client: ``WebsiteConversation.listConversations``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversations/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def list_suggested_conversation_segments(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversations/suggest/segments/{page_number}

        Node client: ``WebsiteConversation.listSuggestedConversationSegments``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversations/suggest/segments/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def delete_suggested_conversation_segment(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/conversations/suggest/segment

        Node client: ``WebsiteConversation.deleteSuggestedConversationSegment``.
        """
        return await self._c.call(
            "DELETE", "/v1/website/{}/conversations/suggest/segment", (website_id,), body, query
        )

    async def list_suggested_conversation_data_keys(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversations/suggest/data/{page_number}

        Node client: ``WebsiteConversation.listSuggestedConversationDataKeys``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversations/suggest/data/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def delete_suggested_conversation_data_key(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/conversations/suggest/data

        Node client: ``WebsiteConversation.deleteSuggestedConversationDataKey``.
        """
        return await self._c.call(
            "DELETE", "/v1/website/{}/conversations/suggest/data", (website_id,), body, query
        )

    async def list_spam_conversations(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversations/spams/{page_number}

        Node client: ``WebsiteConversation.listSpamConversations``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversations/spams/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def resolve_spam_conversation_content(
        self,
        website_id: str,
        spam_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversations/spam/{spam_id}/content

        Node client: ``WebsiteConversation.resolveSpamConversationContent``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversations/spam/{}/content",
            (
                website_id,
                spam_id,
            ),
            None,
            query,
        )

    async def submit_spam_conversation_decision(
        self,
        website_id: str,
        spam_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversations/spam/{spam_id}/decision

        Node client: ``WebsiteConversation.submitSpamConversationDecision``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversations/spam/{}/decision",
            (
                website_id,
                spam_id,
            ),
            body,
            query,
        )

    async def create_new_conversation(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation

        Node client: ``WebsiteConversation.createNewConversation``.
        """
        return await self._c.call("POST", "/v1/website/{}/conversation", (website_id,), body, query)

    async def check_conversation_exists(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/conversation/{session_id}

        Node client: ``WebsiteConversation.checkConversationExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/conversation/{}",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def get_conversation(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}

        Node client: ``WebsiteConversation.getConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def remove_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/conversation/{session_id}

        Node client: ``WebsiteConversation.removeConversation``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/conversation/{}",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def initiate_conversation_with_existing_session(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/initiate

        Node client: ``WebsiteConversation.initiateConversationWithExistingSession``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/initiate",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_messages_in_conversation(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/messages

        Node client: ``WebsiteConversation.getMessagesInConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/messages",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def send_message_in_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/message

        Node client: ``WebsiteConversation.sendMessageInConversation``.
        """
        data = await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/message",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )
        self._c._notify_sent(website_id, session_id, data)
        return data

    async def get_message_in_conversation(
        self,
        website_id: str,
        session_id: str,
        fingerprint: int,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/message/{fingerprint}

        Node client: ``WebsiteConversation.getMessageInConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/message/{}",
            (
                website_id,
                session_id,
                fingerprint,
            ),
            None,
            query,
        )

    async def update_message_in_conversation(
        self,
        website_id: str,
        session_id: str,
        fingerprint: int,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/message/{fingerprint}

        Node client: ``WebsiteConversation.updateMessageInConversation``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/message/{}",
            (
                website_id,
                session_id,
                fingerprint,
            ),
            body,
            query,
        )

    async def remove_message_in_conversation(
        self,
        website_id: str,
        session_id: str,
        fingerprint: int,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/conversation/{session_id}/message/{fingerprint}

        Node client: ``WebsiteConversation.removeMessageInConversation``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/conversation/{}/message/{}",
            (
                website_id,
                session_id,
                fingerprint,
            ),
            body,
            query,
        )

    async def compose_message_in_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/compose

        Node client: ``WebsiteConversation.composeMessageInConversation``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/compose",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def mark_messages_read_in_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/read

        Node client: ``WebsiteConversation.markMessagesReadInConversation``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/read",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def mark_conversation_as_unread(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/unread

        Node client: ``WebsiteConversation.markConversationAsUnread``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/unread",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def mark_messages_delivered_in_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/delivered

        Node client: ``WebsiteConversation.markMessagesDeliveredInConversation``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/delivered",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def update_conversation_open_state(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/open

        Node client: ``WebsiteConversation.updateConversationOpenState``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/open",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_conversation_routing_assign(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/routing

        Node client: ``WebsiteConversation.getConversationRoutingAssign``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/routing",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def assign_conversation_routing(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/routing

        Node client: ``WebsiteConversation.assignConversationRouting``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/routing",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def update_conversation_inbox(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/inbox

        Node client: ``WebsiteConversation.updateConversationInbox``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/inbox",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_conversation_metas(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/meta

        Node client: ``WebsiteConversation.getConversationMetas``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/meta",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def update_conversation_metas(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/meta

        Node client: ``WebsiteConversation.updateConversationMetas``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/meta",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_original_message_in_conversation(
        self,
        website_id: str,
        session_id: str,
        original_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/original/{original_id}

        Node client: ``WebsiteConversation.getOriginalMessageInConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/original/{}",
            (
                website_id,
                session_id,
                original_id,
            ),
            None,
            query,
        )

    async def list_conversation_pages(
        self,
        website_id: str,
        session_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/pages/{page_number}

        Node client: ``WebsiteConversation.listConversationPages``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/pages/{}",
            (
                website_id,
                session_id,
                page_number,
            ),
            None,
            query,
        )

    async def list_conversation_events(
        self,
        website_id: str,
        session_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/events/{page_number}

        Node client: ``WebsiteConversation.listConversationEvents``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/events/{}",
            (
                website_id,
                session_id,
                page_number,
            ),
            None,
            query,
        )

    async def list_conversation_files(
        self,
        website_id: str,
        session_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/files/{page_number}

        Node client: ``WebsiteConversation.listConversationFiles``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/files/{}",
            (
                website_id,
                session_id,
                page_number,
            ),
            None,
            query,
        )

    async def get_conversation_state(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/state

        Node client: ``WebsiteConversation.getConversationState``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/state",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def change_conversation_state(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/state

        Node client: ``WebsiteConversation.changeConversationState``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/state",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_conversation_relations(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/relations

        Node client: ``WebsiteConversation.getConversationRelations``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/relations",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def get_conversation_participants(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/participants

        Node client: ``WebsiteConversation.getConversationParticipants``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/participants",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def save_conversation_participants(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/conversation/{session_id}/participants

        Node client: ``WebsiteConversation.saveConversationParticipants``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/conversation/{}/participants",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_block_status_for_conversation(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/block

        Node client: ``WebsiteConversation.getBlockStatusForConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/block",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def block_incoming_messages_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/block

        Node client: ``WebsiteConversation.blockIncomingMessagesForConversation``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/block",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_verify_status_for_conversation(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/verify

        Node client: ``WebsiteConversation.getVerifyStatusForConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/verify",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def update_verify_status_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/verify

        Node client: ``WebsiteConversation.updateVerifyStatusForConversation``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/verify",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def request_identity_verification_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/verify/identity

        Node client: ``WebsiteConversation.requestIdentityVerificationForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/verify/identity",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def redeem_identity_verification_link_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/conversation/{session_id}/verify/identity/link

        Node client: ``WebsiteConversation.redeemIdentityVerificationLinkForConversation``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/conversation/{}/verify/identity/link",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def request_email_transcript_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/transcript

        Node client: ``WebsiteConversation.requestEmailTranscriptForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/transcript",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def request_chatbox_binding_purge_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/purge

        Node client: ``WebsiteConversation.requestChatboxBindingPurgeForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/purge",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def request_user_feedback_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/feedback

        Node client: ``WebsiteConversation.requestUserFeedbackForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/feedback",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def list_browsing_sessions_for_conversation(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/browsing

        Node client: ``WebsiteConversation.listBrowsingSessionsForConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/browsing",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def initiate_browsing_session_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/browsing

        Node client: ``WebsiteConversation.initiateBrowsingSessionForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/browsing",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def send_action_to_existing_browsing_session(
        self,
        website_id: str,
        session_id: str,
        browsing_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/browsing/{browsing_id}

        Node client: ``WebsiteConversation.sendActionToExistingBrowsingSession``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/browsing/{}",
            (
                website_id,
                session_id,
                browsing_id,
            ),
            body,
            query,
        )

    async def assist_existing_browsing_session(
        self,
        website_id: str,
        session_id: str,
        browsing_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/browsing/{browsing_id}/assist

        Node client: ``WebsiteConversation.assistExistingBrowsingSession``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/browsing/{}/assist",
            (
                website_id,
                session_id,
                browsing_id,
            ),
            body,
            query,
        )

    async def initiate_new_call_session_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/call

        Node client: ``WebsiteConversation.initiateNewCallSessionForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/call",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def get_ongoing_call_session_for_conversation(
        self,
        website_id: str,
        session_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/conversation/{session_id}/call

        Node client: ``WebsiteConversation.getOngoingCallSessionForConversation``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/conversation/{}/call",
            (
                website_id,
                session_id,
            ),
            None,
            query,
        )

    async def abort_ongoing_call_session_for_conversation(
        self,
        website_id: str,
        session_id: str,
        call_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/conversation/{session_id}/call/{call_id}

        Node client: ``WebsiteConversation.abortOngoingCallSessionForConversation``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/conversation/{}/call/{}",
            (
                website_id,
                session_id,
                call_id,
            ),
            body,
            query,
        )

    async def transmit_signaling_on_ongoing_call_session(
        self,
        website_id: str,
        session_id: str,
        call_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/conversation/{session_id}/call/{call_id}

        Node client: ``WebsiteConversation.transmitSignalingOnOngoingCallSession``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/conversation/{}/call/{}",
            (
                website_id,
                session_id,
                call_id,
            ),
            body,
            query,
        )

    async def request_tool_call_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/tool

        Node client: ``WebsiteConversation.requestToolCallForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/tool",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def deliver_widget_button_action_for_conversation(
        self,
        website_id: str,
        session_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/widget/{plugin_id}/button

        Node client: ``WebsiteConversation.deliverWidgetButtonActionForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/widget/{}/button",
            (
                website_id,
                session_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def deliver_widget_data_fetch_action_for_conversation(
        self,
        website_id: str,
        session_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/widget/{plugin_id}/data

        Node client: ``WebsiteConversation.deliverWidgetDataFetchActionForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/widget/{}/data",
            (
                website_id,
                session_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def deliver_widget_data_edit_action_for_conversation(
        self,
        website_id: str,
        session_id: str,
        plugin_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/widget/{plugin_id}/data

        Node client: ``WebsiteConversation.deliverWidgetDataEditActionForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/widget/{}/data",
            (
                website_id,
                session_id,
                plugin_id,
            ),
            body,
            query,
        )

    async def schedule_reminder_for_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/reminder

        Node client: ``WebsiteConversation.scheduleReminderForConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/reminder",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def report_conversation(
        self,
        website_id: str,
        session_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/conversation/{session_id}/report

        Node client: ``WebsiteConversation.reportConversation``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/conversation/{}/report",
            (
                website_id,
                session_id,
            ),
            body,
            query,
        )

    async def check_helpdesk_exists(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/helpdesk

        Node client: ``WebsiteHelpdesk.checkHelpdeskExists``.
        """
        return await self._c.call("HEAD", "/v1/website/{}/helpdesk", (website_id,), None, query)

    async def resolve_helpdesk(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk

        Node client: ``WebsiteHelpdesk.resolveHelpdesk``.
        """
        return await self._c.call("GET", "/v1/website/{}/helpdesk", (website_id,), None, query)

    async def initialize_helpdesk(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/helpdesk

        Node client: ``WebsiteHelpdesk.initializeHelpdesk``.
        """
        return await self._c.call("POST", "/v1/website/{}/helpdesk", (website_id,), body, query)

    async def delete_helpdesk(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/helpdesk

        Node client: ``WebsiteHelpdesk.deleteHelpdesk``.
        """
        return await self._c.call("DELETE", "/v1/website/{}/helpdesk", (website_id,), body, query)

    async def list_helpdesk_locales(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/locales/{page_number}

        Node client: ``WebsiteHelpdesk.listHelpdeskLocales``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/locales/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def add_helpdesk_locale(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/helpdesk/locale

        Node client: ``WebsiteHelpdesk.addHelpdeskLocale``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/helpdesk/locale", (website_id,), body, query
        )

    async def check_helpdesk_locale_exists(
        self,
        website_id: str,
        locale: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/helpdesk/locale/{locale}

        Node client: ``WebsiteHelpdesk.checkHelpdeskLocaleExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/helpdesk/locale/{}",
            (
                website_id,
                locale,
            ),
            None,
            query,
        )

    async def resolve_helpdesk_locale(
        self,
        website_id: str,
        locale: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/locale/{locale}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskLocale``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/locale/{}",
            (
                website_id,
                locale,
            ),
            None,
            query,
        )

    async def delete_helpdesk_locale(
        self,
        website_id: str,
        locale: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/helpdesk/locale/{locale}

        Node client: ``WebsiteHelpdesk.deleteHelpdeskLocale``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/helpdesk/locale/{}",
            (
                website_id,
                locale,
            ),
            body,
            query,
        )

    async def list_helpdesk_pages(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/page/list/{locale}/{content_type}/{page_number}

        Node client: ``WebsiteHelpdesk.listHelpdeskPages``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/page/list/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                page_number,
            ),
            None,
            query,
        )

    async def resolve_helpdesk_page_entity(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        entity_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/page/entity/{locale}/{content_type}/{entity_id}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskPageEntity``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/page/entity/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                entity_id,
            ),
            None,
            query,
        )

    async def list_helpdesk_tree(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/tree/list/{locale}/{content_type}/{page_number}

        Node client: ``WebsiteHelpdesk.listHelpdeskTree``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/tree/list/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                page_number,
            ),
            None,
            query,
        )

    async def create_helpdesk_tree_path(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/helpdesk/tree/path/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.createHelpdeskTreePath``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/helpdesk/tree/path/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            body,
            query,
        )

    async def resolve_helpdesk_tree_path(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/tree/path/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskTreePath``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/tree/path/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            None,
            query,
        )

    async def update_helpdesk_tree_path(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/helpdesk/tree/path/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.updateHelpdeskTreePath``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/helpdesk/tree/path/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            body,
            query,
        )

    async def delete_helpdesk_tree_path(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/helpdesk/tree/path/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.deleteHelpdeskTreePath``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/helpdesk/tree/path/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            body,
            query,
        )

    async def resolve_helpdesk_tree_content(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/tree/content/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskTreeContent``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/tree/content/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            None,
            query,
        )

    async def save_helpdesk_tree_content(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/helpdesk/tree/content/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.saveHelpdeskTreeContent``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/helpdesk/tree/content/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            body,
            query,
        )

    async def resolve_helpdesk_tree_metadata(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/tree/metadata/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskTreeMetadata``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/tree/metadata/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            None,
            query,
        )

    async def update_helpdesk_tree_metadata(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/helpdesk/tree/metadata/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.updateHelpdeskTreeMetadata``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/helpdesk/tree/metadata/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            body,
            query,
        )

    async def resolve_helpdesk_tree_page(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        path: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/tree/page/{locale}/{content_type}/{path}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskTreePage``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/tree/page/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                path,
            ),
            None,
            query,
        )

    async def list_helpdesk_history_changes(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/history/changes/{page_number}

        Node client: ``WebsiteHelpdesk.listHelpdeskHistoryChanges``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/history/changes/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def resolve_helpdesk_history_change(
        self,
        website_id: str,
        change_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/history/change/{change_id}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskHistoryChange``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/history/change/{}",
            (
                website_id,
                change_id,
            ),
            None,
            query,
        )

    async def cancel_helpdesk_history_change(
        self,
        website_id: str,
        change_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/helpdesk/history/change/{change_id}

        Node client: ``WebsiteHelpdesk.cancelHelpdeskHistoryChange``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/helpdesk/history/change/{}",
            (
                website_id,
                change_id,
            ),
            body,
            query,
        )

    async def request_helpdesk_content_refresh(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/helpdesk/refresh/{locale}/{content_type}

        Node client: ``WebsiteHelpdesk.requestHelpdeskContentRefresh``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/helpdesk/refresh/{}/{}",
            (
                website_id,
                locale,
                content_type,
            ),
            body,
            query,
        )

    async def map_helpdesk_locale_feedback_ratings(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/feedback/ratings/{locale}/{content_type}

        Node client: ``WebsiteHelpdesk.mapHelpdeskLocaleFeedbackRatings``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/feedback/ratings/{}/{}",
            (
                website_id,
                locale,
                content_type,
            ),
            None,
            query,
        )

    async def list_helpdesk_locale_feedbacks(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/feedback/list/{locale}/{content_type}/{page_number}

        Node client: ``WebsiteHelpdesk.listHelpdeskLocaleFeedbacks``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/feedback/list/{}/{}/{}",
            (
                website_id,
                locale,
                content_type,
                page_number,
            ),
            None,
            query,
        )

    async def import_external_helpdesk_to_locale(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/helpdesk/import/{locale}/{content_type}

        Node client: ``WebsiteHelpdesk.importExternalHelpdeskToLocale``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/helpdesk/import/{}/{}",
            (
                website_id,
                locale,
                content_type,
            ),
            body,
            query,
        )

    async def export_helpdesk_locale_articles(
        self,
        website_id: str,
        locale: str,
        content_type: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/helpdesk/export/{locale}/{content_type}

        Node client: ``WebsiteHelpdesk.exportHelpdeskLocaleArticles``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/helpdesk/export/{}/{}",
            (
                website_id,
                locale,
                content_type,
            ),
            body,
            query,
        )

    async def list_helpdesk_redirections(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/redirections/{page_number}

        Node client: ``WebsiteHelpdesk.listHelpdeskRedirections``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/redirections/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def add_helpdesk_redirection(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/helpdesk/redirection

        Node client: ``WebsiteHelpdesk.addHelpdeskRedirection``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/helpdesk/redirection", (website_id,), body, query
        )

    async def check_helpdesk_redirection_exists(
        self,
        website_id: str,
        redirection_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/helpdesk/redirection/{redirection_id}

        Node client: ``WebsiteHelpdesk.checkHelpdeskRedirectionExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/helpdesk/redirection/{}",
            (
                website_id,
                redirection_id,
            ),
            None,
            query,
        )

    async def resolve_helpdesk_redirection(
        self,
        website_id: str,
        redirection_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/redirection/{redirection_id}

        Node client: ``WebsiteHelpdesk.resolveHelpdeskRedirection``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/helpdesk/redirection/{}",
            (
                website_id,
                redirection_id,
            ),
            None,
            query,
        )

    async def delete_helpdesk_redirection(
        self,
        website_id: str,
        redirection_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/helpdesk/redirection/{redirection_id}

        Node client: ``WebsiteHelpdesk.deleteHelpdeskRedirection``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/helpdesk/redirection/{}",
            (
                website_id,
                redirection_id,
            ),
            body,
            query,
        )

    async def resolve_helpdesk_settings(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/settings

        Node client: ``WebsiteHelpdesk.resolveHelpdeskSettings``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/helpdesk/settings", (website_id,), None, query
        )

    async def save_helpdesk_settings(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/helpdesk/settings

        Node client: ``WebsiteHelpdesk.saveHelpdeskSettings``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/helpdesk/settings", (website_id,), body, query
        )

    async def resolve_helpdesk_domain(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/domain

        Node client: ``WebsiteHelpdesk.resolveHelpdeskDomain``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/helpdesk/domain", (website_id,), None, query
        )

    async def request_helpdesk_domain_change(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/helpdesk/domain

        Node client: ``WebsiteHelpdesk.requestHelpdeskDomainChange``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/helpdesk/domain", (website_id,), body, query
        )

    async def generate_helpdesk_domain_setup_flow(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/helpdesk/domain/setup

        Node client: ``WebsiteHelpdesk.generateHelpdeskDomainSetupFlow``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/helpdesk/domain/setup", (website_id,), None, query
        )

    async def list_inboxes(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/inboxes/list/{page_number}

        Node client: ``WebsiteInbox.listInboxes``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/inboxes/list/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def batch_order_inboxes(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/inboxes/batch/order

        Node client: ``WebsiteInbox.batchOrderInboxes``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/inboxes/batch/order", (website_id,), body, query
        )

    async def create_new_inbox(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/inbox

        Node client: ``WebsiteInbox.createNewInbox``.
        """
        return await self._c.call("POST", "/v1/website/{}/inbox", (website_id,), body, query)

    async def check_inbox_exists(
        self,
        website_id: str,
        inbox_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/inbox/{inbox_id}

        Node client: ``WebsiteInbox.checkInboxExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/inbox/{}",
            (
                website_id,
                inbox_id,
            ),
            None,
            query,
        )

    async def get_inbox(
        self,
        website_id: str,
        inbox_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/inbox/{inbox_id}

        Node client: ``WebsiteInbox.getInbox``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/inbox/{}",
            (
                website_id,
                inbox_id,
            ),
            None,
            query,
        )

    async def save_inbox(
        self,
        website_id: str,
        inbox_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/inbox/{inbox_id}

        Node client: ``WebsiteInbox.saveInbox``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/inbox/{}",
            (
                website_id,
                inbox_id,
            ),
            body,
            query,
        )

    async def delete_inbox(
        self,
        website_id: str,
        inbox_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/inbox/{inbox_id}

        Node client: ``WebsiteInbox.deleteInbox``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/inbox/{}",
            (
                website_id,
                inbox_id,
            ),
            body,
            query,
        )

    async def list_website_operators(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/operators/list

        Node client: ``WebsiteOperator.listWebsiteOperators``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/operators/list", (website_id,), None, query
        )

    async def list_last_active_website_operators(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/operators/active

        Node client: ``WebsiteOperator.listLastActiveWebsiteOperators``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/operators/active", (website_id,), None, query
        )

    async def flush_last_active_website_operators(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/operators/active

        Node client: ``WebsiteOperator.flushLastActiveWebsiteOperators``.
        """
        return await self._c.call(
            "DELETE", "/v1/website/{}/operators/active", (website_id,), body, query
        )

    async def send_email_to_website_operators(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/operators/email

        Node client: ``WebsiteOperator.sendEmailToWebsiteOperators``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/operators/email", (website_id,), body, query
        )

    async def get_website_operator(
        self,
        website_id: str,
        user_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/operator/{user_id}

        Node client: ``WebsiteOperator.getWebsiteOperator``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/operator/{}",
            (
                website_id,
                user_id,
            ),
            None,
            query,
        )

    async def invite_website_operator(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/operator

        Node client: ``WebsiteOperator.inviteWebsiteOperator``.
        """
        return await self._c.call("POST", "/v1/website/{}/operator", (website_id,), body, query)

    async def change_operator_membership(
        self,
        website_id: str,
        user_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/operator/{user_id}

        Node client: ``WebsiteOperator.changeOperatorMembership``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/operator/{}",
            (
                website_id,
                user_id,
            ),
            body,
            query,
        )

    async def unlink_operator_from_website(
        self,
        website_id: str,
        user_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/operator/{user_id}

        Node client: ``WebsiteOperator.unlinkOperatorFromWebsite``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/operator/{}",
            (
                website_id,
                user_id,
            ),
            body,
            query,
        )

    async def get_people_statistics(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/stats

        Node client: ``WebsitePeople.getPeopleStatistics``.
        """
        return await self._c.call("GET", "/v1/website/{}/people/stats", (website_id,), None, query)

    async def list_suggested_people_segments(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/suggest/segments/{page_number}

        Node client: ``WebsitePeople.listSuggestedPeopleSegments``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/suggest/segments/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def delete_suggested_people_segment(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/people/suggest/segment

        Node client: ``WebsitePeople.deleteSuggestedPeopleSegment``.
        """
        return await self._c.call(
            "DELETE", "/v1/website/{}/people/suggest/segment", (website_id,), body, query
        )

    async def list_suggested_people_data_keys(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/suggest/data/{page_number}

        Node client: ``WebsitePeople.listSuggestedPeopleDataKeys``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/suggest/data/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def delete_suggested_people_data_key(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/people/suggest/data

        Node client: ``WebsitePeople.deleteSuggestedPeopleDataKey``.
        """
        return await self._c.call(
            "DELETE", "/v1/website/{}/people/suggest/data", (website_id,), body, query
        )

    async def list_suggested_people_events(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/suggest/events/{page_number}

        Node client: ``WebsitePeople.listSuggestedPeopleEvents``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/suggest/events/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def delete_suggested_people_event(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/people/suggest/event

        Node client: ``WebsitePeople.deleteSuggestedPeopleEvent``.
        """
        return await self._c.call(
            "DELETE", "/v1/website/{}/people/suggest/event", (website_id,), body, query
        )

    async def list_people_profiles(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/profiles/{page_number}

        Node client: ``WebsitePeople.listPeopleProfiles``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/profiles/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def add_new_people_profile(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/people/profile

        Node client: ``WebsitePeople.addNewPeopleProfile``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/people/profile", (website_id,), body, query
        )

    async def check_people_profile_exists(
        self,
        website_id: str,
        people_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/people/profile/{people_id}

        Node client: ``WebsitePeople.checkPeopleProfileExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/people/profile/{}",
            (
                website_id,
                people_id,
            ),
            None,
            query,
        )

    async def get_people_profile(
        self,
        website_id: str,
        people_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/profile/{people_id}

        Node client: ``WebsitePeople.getPeopleProfile``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/profile/{}",
            (
                website_id,
                people_id,
            ),
            None,
            query,
        )

    async def save_people_profile(
        self,
        website_id: str,
        people_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/people/profile/{people_id}

        Node client: ``WebsitePeople.savePeopleProfile``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/people/profile/{}",
            (
                website_id,
                people_id,
            ),
            body,
            query,
        )

    async def update_people_profile(
        self,
        website_id: str,
        people_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/people/profile/{people_id}

        Node client: ``WebsitePeople.updatePeopleProfile``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/people/profile/{}",
            (
                website_id,
                people_id,
            ),
            body,
            query,
        )

    async def remove_people_profile(
        self,
        website_id: str,
        people_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/people/profile/{people_id}

        Node client: ``WebsitePeople.removePeopleProfile``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/people/profile/{}",
            (
                website_id,
                people_id,
            ),
            body,
            query,
        )

    async def list_people_conversations(
        self,
        website_id: str,
        people_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/conversations/{people_id}/list/{page_number}

        Node client: ``WebsitePeople.listPeopleConversations``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/conversations/{}/list/{}",
            (
                website_id,
                people_id,
                page_number,
            ),
            None,
            query,
        )

    async def list_people_campaigns(
        self,
        website_id: str,
        people_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/campaigns/{people_id}/list/{page_number}

        Node client: ``WebsitePeople.listPeopleCampaigns``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/campaigns/{}/list/{}",
            (
                website_id,
                people_id,
                page_number,
            ),
            None,
            query,
        )

    async def add_people_event(
        self,
        website_id: str,
        people_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/people/events/{people_id}

        Node client: ``WebsitePeople.addPeopleEvent``.
        """
        return await self._c.call(
            "POST",
            "/v1/website/{}/people/events/{}",
            (
                website_id,
                people_id,
            ),
            body,
            query,
        )

    async def list_people_events(
        self,
        website_id: str,
        people_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/events/{people_id}/list/{page_number}

        Node client: ``WebsitePeople.listPeopleEvents``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/events/{}/list/{}",
            (
                website_id,
                people_id,
                page_number,
            ),
            None,
            query,
        )

    async def get_people_data(
        self,
        website_id: str,
        people_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/data/{people_id}

        Node client: ``WebsitePeople.getPeopleData``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/data/{}",
            (
                website_id,
                people_id,
            ),
            None,
            query,
        )

    async def save_people_data(
        self,
        website_id: str,
        people_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/people/data/{people_id}

        Node client: ``WebsitePeople.savePeopleData``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/people/data/{}",
            (
                website_id,
                people_id,
            ),
            body,
            query,
        )

    async def update_people_data(
        self,
        website_id: str,
        people_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/people/data/{people_id}

        Node client: ``WebsitePeople.updatePeopleData``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/people/data/{}",
            (
                website_id,
                people_id,
            ),
            body,
            query,
        )

    async def get_people_subscription_status(
        self,
        website_id: str,
        people_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/people/subscription/{people_id}

        Node client: ``WebsitePeople.getPeopleSubscriptionStatus``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/people/subscription/{}",
            (
                website_id,
                people_id,
            ),
            None,
            query,
        )

    async def update_people_subscription_status(
        self,
        website_id: str,
        people_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/people/subscription/{people_id}

        Node client: ``WebsitePeople.updatePeopleSubscriptionStatus``.
        """
        return await self._c.call(
            "PATCH",
            "/v1/website/{}/people/subscription/{}",
            (
                website_id,
                people_id,
            ),
            body,
            query,
        )

    async def export_people_profiles(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/people/export/profiles

        Node client: ``WebsitePeople.exportPeopleProfiles``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/people/export/profiles", (website_id,), body, query
        )

    async def import_people_profiles(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/people/import/profiles

        Node client: ``WebsitePeople.importPeopleProfiles``.
        """
        return await self._c.call(
            "POST", "/v1/website/{}/people/import/profiles", (website_id,), body, query
        )

    async def get_website_settings(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/settings

        Node client: ``WebsiteSettings.getWebsiteSettings``.
        """
        return await self._c.call("GET", "/v1/website/{}/settings", (website_id,), None, query)

    async def update_website_settings(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/settings

        Node client: ``WebsiteSettings.updateWebsiteSettings``.
        """
        return await self._c.call("PATCH", "/v1/website/{}/settings", (website_id,), body, query)

    async def list_teams(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/teams/list/{page_number}

        Node client: ``WebsiteTeams.listTeams``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/teams/list/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def create_new_team(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/team

        Node client: ``WebsiteTeams.createNewTeam``.
        """
        return await self._c.call("POST", "/v1/website/{}/team", (website_id,), body, query)

    async def check_team_exists(
        self,
        website_id: str,
        team_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """HEAD /v1/website/{website_id}/team/{team_id}

        Node client: ``WebsiteTeams.checkTeamExists``.
        """
        return await self._c.call(
            "HEAD",
            "/v1/website/{}/team/{}",
            (
                website_id,
                team_id,
            ),
            None,
            query,
        )

    async def get_team(
        self,
        website_id: str,
        team_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/team/{team_id}

        Node client: ``WebsiteTeams.getTeam``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/team/{}",
            (
                website_id,
                team_id,
            ),
            None,
            query,
        )

    async def save_team(
        self,
        website_id: str,
        team_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PUT /v1/website/{website_id}/team/{team_id}

        Node client: ``WebsiteTeams.saveTeam``.
        """
        return await self._c.call(
            "PUT",
            "/v1/website/{}/team/{}",
            (
                website_id,
                team_id,
            ),
            body,
            query,
        )

    async def delete_team(
        self,
        website_id: str,
        team_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/team/{team_id}

        Node client: ``WebsiteTeams.deleteTeam``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/team/{}",
            (
                website_id,
                team_id,
            ),
            body,
            query,
        )

    async def get_verify_settings(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/verify/settings

        Node client: ``WebsiteVerify.getVerifySettings``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/verify/settings", (website_id,), None, query
        )

    async def update_verify_settings(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """PATCH /v1/website/{website_id}/verify/settings

        Node client: ``WebsiteVerify.updateVerifySettings``.
        """
        return await self._c.call(
            "PATCH", "/v1/website/{}/verify/settings", (website_id,), body, query
        )

    async def get_verify_key(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/verify/key

        Node client: ``WebsiteVerify.getVerifyKey``.
        """
        return await self._c.call("GET", "/v1/website/{}/verify/key", (website_id,), None, query)

    async def roll_verify_key(
        self,
        website_id: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """POST /v1/website/{website_id}/verify/key

        Node client: ``WebsiteVerify.rollVerifyKey``.
        """
        return await self._c.call("POST", "/v1/website/{}/verify/key", (website_id,), body, query)

    async def count_visitors(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/visitors/count

        Node client: ``WebsiteVisitors.countVisitors``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/visitors/count", (website_id,), None, query
        )

    async def list_visitors(
        self,
        website_id: str,
        page_number: int = 1,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/visitors/list/{page_number}

        Node client: ``WebsiteVisitors.listVisitors``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/visitors/list/{}",
            (
                website_id,
                page_number,
            ),
            None,
            query,
        )

    async def pinpoint_visitors_on_map(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/visitors/map

        Node client: ``WebsiteVisitors.pinpointVisitorsOnMap``.
        """
        return await self._c.call("GET", "/v1/website/{}/visitors/map", (website_id,), None, query)

    async def get_session_identifier_from_token(
        self,
        website_id: str,
        token_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/visitors/token/{token_id}

        Node client: ``WebsiteVisitors.getSessionIdentifierFromToken``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/visitors/token/{}",
            (
                website_id,
                token_id,
            ),
            None,
            query,
        )

    async def count_blocked_visitors(
        self,
        website_id: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/visitors/blocked

        Node client: ``WebsiteVisitors.countBlockedVisitors``.
        """
        return await self._c.call(
            "GET", "/v1/website/{}/visitors/blocked", (website_id,), None, query
        )

    async def count_blocked_visitors_in_rule(
        self,
        website_id: str,
        rule: str,
        *,
        query: Query | None = None,
    ) -> Any:
        """GET /v1/website/{website_id}/visitors/blocked/{rule}

        Node client: ``WebsiteVisitors.countBlockedVisitorsInRule``.
        """
        return await self._c.call(
            "GET",
            "/v1/website/{}/visitors/blocked/{}",
            (
                website_id,
                rule,
            ),
            None,
            query,
        )

    async def clear_blocked_visitors_in_rule(
        self,
        website_id: str,
        rule: str,
        body: Body = None,
        *,
        query: Query | None = None,
    ) -> Any:
        """DELETE /v1/website/{website_id}/visitors/blocked/{rule}

        Node client: ``WebsiteVisitors.clearBlockedVisitorsInRule``.
        """
        return await self._c.call(
            "DELETE",
            "/v1/website/{}/visitors/blocked/{}",
            (
                website_id,
                rule,
            ),
            body,
            query,
        )
