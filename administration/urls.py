from django.urls import path

from administration import otp, password_change, views, views_masterdata, views_roles, views_users

app_name = "administration"
urlpatterns = [
    path("config/", views.config_list, name="config_list"),
    path("config/<int:pk>/", views.config_detail, name="config_detail"),
    path("changes/", views.change_list, name="change_list"),
    path("changes/<int:pk>/", views.change_detail, name="change_detail"),
    path("config-review/", views.config_review, name="config_review"),
    path("access-review/", views.access_review, name="access_review"),
    path("reviews/sign/", views.review_sign, name="review_sign"),
    path("status/", views.status, name="status"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_ack, name="alert_ack"),
    path("users/", views_users.user_list, name="user_list"),
    path("users/new/", views_users.user_new, name="user_new"),
    path("users/<int:pk>/", views_users.user_detail, name="user_detail"),
    path("users/<int:pk>/active/", views_users.user_active, name="user_active"),
    path("users/<int:pk>/roles/", views_users.user_roles, name="user_roles"),
    path("users/<int:pk>/scopes/", views_users.user_scope_grant, name="user_scope_grant"),
    path("users/<int:pk>/scopes/<int:grant>/revoke/", views_users.user_scope_revoke, name="user_scope_revoke"),
    path("users/<int:pk>/unlock/", views_users.user_unlock, name="user_unlock"),
    path("users/<int:pk>/password/", views_users.user_password, name="user_password"),
    path("users/<int:pk>/second-factor/reset/", otp.otp_reset_view, name="otp_reset"),
    path("second-factor/", otp.otp_verify, name="otp_verify"),
    path("second-factor/enrol/", otp.otp_enrol, name="otp_enrol"),
    path("account/password/", password_change.password_change, name="password_change"),
    path("role-requests/", views_roles.role_request_list, name="role_request_list"),
    path("role-requests/<int:pk>/", views_roles.role_request_detail, name="role_request_detail"),
    path("master-data/", views_masterdata.masterdata_list, name="masterdata_list"),
    path("master-data/<int:pk>/", views_masterdata.masterdata_detail, name="masterdata_detail"),
    path("master-data/<str:model>/new/", views_masterdata.masterdata_propose_view, name="masterdata_new"),
    path(
        "master-data/<str:model>/<int:pk>/change/", views_masterdata.masterdata_propose_view, name="masterdata_propose"
    ),
    path("account/", views_users.my_account, name="my_account"),
    path("account/<int:pk>/", views_users.account, name="account"),
    path("account/<int:pk>/language/", views_users.account_language, name="account_language"),
]
